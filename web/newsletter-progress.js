// The progress of a newsletter being sent, live on its admin page: the WebSocket /live follows the
// issue's topic (given to signed-in editors only), which the sender updates about once a second.
// If the socket cannot open or closes, the page asks the API every 2 seconds instead. Without
// JavaScript, the page shows the same figures as of its loading. Only textContent is written.
const box = document.getElementById('progress');
const STATUS_FR = { sending: 'en cours d’envoi', paused: 'en pause', sent: 'envoyée', cancelled: 'annulée' };
let lastStatus = 'sending';

function show(status, p) {
  lastStatus = status;
  box.querySelector('[data-k=sent]').textContent = p.sent;
  box.querySelector('[data-k=failed]').textContent = p.failed;
  box.querySelector('[data-k=remaining]').textContent = p.remaining;
  box.querySelector('[data-k=rate]').textContent = p.rate;
  box.querySelector('[data-k=left]').textContent = p.secondsLeft === null ? '—' : `${Math.ceil(p.secondsLeft / 60)} min`;
  box.querySelector('[data-k=status]').textContent = STATUS_FR[status] ?? status;
}

function poll(id) {
  const tick = async () => {
    const res = await fetch(`/api/v1/newsletters/${id}`, { headers: { accept: 'application/json' } });
    if (!res.ok) return;
    const issue = await res.json();
    show(issue.status, issue.progress);
    if (issue.status === 'sending') setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
}

if (box) {
  const id = box.dataset.issue;
  let polling = false;
  const fallBack = () => {
    if (!polling) {
      polling = true;
      poll(id);
    }
  };
  if ('WebSocket' in window) {
    const url = new URL(`/live?topics=newsletters.issue.${id}`, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    socket.addEventListener('message', (event) => {
      const { data } = JSON.parse(event.data);
      show(data.status, data);
      if (data.status !== 'sending') socket.close();
    });
    socket.addEventListener('error', fallBack);
    socket.addEventListener('close', () => {
      if (lastStatus === 'sending') fallBack();
    });
  } else fallBack();
}
