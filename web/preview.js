// Live preview in the announcement editor: while the editor types, the Markdown is sent (at most
// every 400 ms) to POST /admin/announcements/preview, which answers the sanitized HTML that the
// page will show. Without JavaScript the "Prévisualiser" button does the same with a page load.
const form = document.querySelector('form[data-preview-url]');
const source = form?.querySelector('textarea[name="body"]');
const target = document.querySelector('[data-preview]');

if (form && source && target) {
  const csrf = form.querySelector('input[name="_csrf"]')?.value ?? '';
  let timer;
  let sent = 0;
  const refresh = async () => {
    const ticket = ++sent;
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ body: source.value }),
        credentials: 'same-origin',
      });
      if (!response.ok || ticket !== sent) return;
      const { html } = await response.json();
      // The server sanitized this HTML with the same policy as the published page.
      if (ticket === sent) target.innerHTML = html;
    } catch {
      // Offline for a moment: the preview button still works.
    }
  };
  source.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
}
