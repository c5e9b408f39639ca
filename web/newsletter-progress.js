// The progress of a newsletter being sent, refreshed every 2 seconds on its admin page (the page
// shows the same figures without JavaScript, as of its loading).
const box = document.getElementById('progress');
if (box) {
  const id = box.dataset.issue;
  const tick = async () => {
    const res = await fetch('/api/v1/newsletters/' + id, { headers: { accept: 'application/json' } });
    if (!res.ok) return;
    const issue = await res.json();
    const p = issue.progress;
    box.querySelector('[data-k=sent]').textContent = p.sent;
    box.querySelector('[data-k=failed]').textContent = p.failed;
    box.querySelector('[data-k=remaining]').textContent = p.remaining;
    box.querySelector('[data-k=rate]').textContent = p.rate;
    box.querySelector('[data-k=left]').textContent = p.secondsLeft === null ? '—' : Math.ceil(p.secondsLeft / 60) + ' min';
    if (issue.status === 'sending') setTimeout(tick, 2000);
    else box.querySelector('[data-k=status]').textContent = issue.status;
  };
  setTimeout(tick, 2000);
}
