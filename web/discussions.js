// Live discussions: on a group page, a thread page or under an announcement or a resource, open
// the WebSocket /live on the context's topic and show new posts without a reload. Messages carry
// ids only; the post itself is fetched from this site (/discussions/posts/:id/fragment), which
// renders it with the same sanitized HTML and the same access checks as a full page load. A
// members-only group's topic only says "something new": a link to reload is shown. Without
// JavaScript, or if the connection fails, the page is simply what the server sent.
const root = document.querySelector('[data-dp-live]');

function fromHtml(text) {
  // The fragment is this site's own rendering of a sanitized post (never the raw message).
  const template = document.createElement('template');
  template.innerHTML = text.trim();
  return template.content.firstElementChild;
}

async function fragment(id, view) {
  const response = await fetch(`/discussions/posts/${encodeURIComponent(id)}/fragment${view ? `?view=${view}` : ''}`, {
    credentials: 'same-origin',
    headers: { accept: 'text/html' },
  });
  if (!response.ok) return undefined;
  return fromHtml(await response.text());
}

function showReload() {
  if (root.querySelector('.dp-live-reload')) return;
  const box = document.createElement('p');
  box.className = 'notice dp-live-reload';
  box.setAttribute('role', 'status');
  box.append(`${root.dataset.reloadLabel || ''} `);
  const link = document.createElement('a');
  link.href = window.location.pathname + window.location.search;
  link.textContent = root.dataset.reloadLink || 'OK';
  box.append(link);
  root.prepend(box);
}

async function addPost(data) {
  if (document.getElementById(`p-${data.id}`)) return;
  if (root.dataset.mode === 'thread' && data.threadId !== root.dataset.threadId) return;
  const item = await fragment(data.id);
  if (!item || document.getElementById(`p-${data.id}`)) return;
  item.classList.add('dp-new');
  const parent = data.parentId ? document.getElementById(`p-${data.parentId}`) : null;
  if (parent && parent.dataset.level !== undefined) {
    if (Number(parent.dataset.level) >= Number(root.dataset.maxDepth || 8)) {
      parent.after(item);
    } else {
      parent.querySelector(':scope > ol.dp-replies')?.append(item);
    }
  } else {
    root.querySelector('[data-dp-list]')?.append(item);
  }
  root.querySelector('.dp-empty')?.remove();
}

async function moveThread(data) {
  const item = await fragment(data.threadId, 'summary');
  const list = root.querySelector('[data-dp-list]');
  if (!item || !list) return;
  list.querySelector(`[data-thread-id="${CSS.escape(data.threadId)}"]`)?.remove();
  item.classList.add('dp-new');
  const badge = document.createElement('span');
  badge.className = 'dp-badge';
  badge.textContent = `${root.dataset.newLabel || ''} `;
  item.querySelector('h3')?.prepend(badge);
  list.prepend(item);
  root.querySelector('.dp-empty')?.remove();
}

function markRemoved(data) {
  const article = document.querySelector(`#p-${CSS.escape(data.id)} > article`);
  if (!article) return;
  const note = document.createElement('p');
  note.className = 'muted';
  note.textContent = root.dataset.removedLabel || '';
  article.replaceChildren(note);
  article.classList.add('dp-removed');
}

function receive(data) {
  if (!data || typeof data.type !== 'string') return;
  if (data.type === 'activity') return showReload();
  if (typeof data.id !== 'string' || typeof data.threadId !== 'string') return;
  if (data.type === 'removed') return markRemoved(data);
  if (data.type !== 'post') return;
  const work = root.dataset.mode === 'group' ? moveThread(data) : addPost(data);
  work.catch(() => {});
}

function connect(delay) {
  const url = new URL(`/live?topics=${encodeURIComponent(root.dataset.topic)}`, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url);
  let opened = false;
  socket.addEventListener('open', () => {
    opened = true;
    root.dataset.liveState = 'open';
  });
  socket.addEventListener('message', (event) => {
    try {
      const message = JSON.parse(event.data);
      if (message?.topic === root.dataset.topic) receive(message.data);
    } catch {
      // not a message of ours
    }
  });
  socket.addEventListener('close', () => {
    root.dataset.liveState = 'closed';
    // Reconnect, waiting longer each time the server cannot be reached (at most a minute).
    const next = opened ? 1000 : Math.min(delay * 2, 60_000);
    setTimeout(() => connect(next), next + Math.random() * 1000);
  });
}

if (root?.dataset.topic && 'WebSocket' in window) connect(1000);
