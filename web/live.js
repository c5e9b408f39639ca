// The live feed: on pages with a list marked data-live-topic, open the WebSocket /live and insert
// each new announcement at the top of the matching lists (they are aria-live="polite", so screen
// readers announce it). Built with DOM methods and textContent only: nothing received is parsed
// as HTML. Without JavaScript, or if the connection fails, the page is simply what the server sent.
const lists = Array.from(document.querySelectorAll('ul[data-live-topic="announcements"]'));

function matches(list, item) {
  const origin = list.dataset.origin || 'all';
  if (origin !== 'all' && item.origin !== origin) return false;
  const network = list.dataset.network || '';
  return network === '' || item.networkHandle === network;
}

function card(list, item) {
  const li = document.createElement('li');
  li.dataset.id = item.id;
  li.className = 'ann-new';
  const article = document.createElement('article');
  article.className = 'ann-card';
  const heading = document.createElement(list.dataset.heading === 'h2' ? 'h2' : 'h3');
  const badge = document.createElement('span');
  badge.className = 'ann-badge';
  badge.textContent = `${list.dataset.newLabel || ''} `;
  const link = document.createElement('a');
  link.href = item.url;
  link.textContent = item.title;
  heading.append(badge, link);
  const meta = document.createElement('p');
  meta.className = 'ann-meta';
  if (item.origin === 'remote' && item.networkName) {
    const network = document.createElement('span');
    network.className = 'ann-network';
    network.textContent = item.networkName;
    meta.append(network, ' · ');
  }
  if (item.publishedAt) {
    const time = document.createElement('time');
    time.dateTime = item.publishedAt;
    time.textContent = new Date(item.publishedAt).toLocaleDateString(list.dataset.lang || document.documentElement.lang, {
      dateStyle: 'long',
    });
    meta.append(time);
  }
  article.append(heading, meta);
  li.append(article);
  return li;
}

function existing(list, id) {
  return Array.from(list.children).find((li) => li.dataset.id === id);
}

function receive(item) {
  // Only links to our own announcement pages are followed.
  if (typeof item?.id !== 'string' || typeof item.url !== 'string' || !item.url.startsWith('/announcements/')) return;
  for (const list of lists) {
    const current = existing(list, item.id);
    if (item.type === 'deleted') {
      current?.remove();
    } else if (item.type === 'updated') {
      const link = current?.querySelector('h2 a, h3 a');
      if (link && typeof item.title === 'string') link.textContent = item.title;
    } else if (item.type === 'published' && !current && matches(list, item) && typeof item.title === 'string') {
      list.prepend(card(list, item));
      list.parentElement?.querySelector('.ann-empty')?.remove();
      const max = Number(list.dataset.max) || 20;
      while (list.children.length > max) list.lastElementChild?.remove();
    }
  }
}

function connect(delay) {
  const url = new URL('/live?topics=announcements', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url);
  let opened = false;
  socket.addEventListener('open', () => {
    opened = true;
    document.documentElement.dataset.live = 'open';
  });
  socket.addEventListener('message', (event) => {
    try {
      const message = JSON.parse(event.data);
      if (message?.topic === 'announcements') receive(message.data);
    } catch {
      // not a message of ours
    }
  });
  socket.addEventListener('close', () => {
    document.documentElement.dataset.live = 'closed';
    // Reconnect, waiting longer each time the server cannot be reached (at most a minute).
    const next = opened ? 1000 : Math.min(delay * 2, 60_000);
    setTimeout(() => connect(next), next + Math.random() * 1000);
  });
}

if (lists.length > 0 && 'WebSocket' in window) connect(1000);
