"""The look of the web chat: a system-font theme, inline CSS and the scroll-to-citation script.

Everything here is inline on purpose: the page must not fetch fonts or scripts from any CDN
(the product runs offline and on private documents). Gradio 6 takes theme and CSS at
``launch()``, so ``launch_options()`` is what both ``python -m ui`` and the tests pass there.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

SYSTEM_FONTS = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue",
                "Arial", "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")


def theme() -> gr.themes.Base:
    """A calm theme that uses only fonts already on the machine (no Google Fonts request)."""
    return gr.themes.Soft(primary_hue="indigo", neutral_hue="slate",
                          font=SYSTEM_FONTS, font_mono=MONO_FONTS)


CSS = """
.gradio-container { max-width: 1380px !important; margin: 0 auto !important; }
footer { display: none !important; }
#dq-header { padding: 2px 4px 0; }
#dq-header h1 { font-size: 1.5rem; font-weight: 700; margin: 0; letter-spacing: -0.01em; }
#dq-header p { margin: 4px 0 0; color: var(--body-text-color-subdued); font-size: 0.98rem; }
#dq-chat { border-radius: 12px; }
#dq-examples { gap: 6px !important; flex-wrap: wrap; }
#dq-examples button { flex: 0 1 auto !important; min-width: 0 !important; font-weight: 400;
  font-size: 0.85rem; padding: 4px 12px; border-radius: 999px; }

.dq-hint { font-size: 0.8rem; color: var(--body-text-color-subdued); margin: -4px 2px 4px; }
#dq-clear { white-space: nowrap; }

/* answers */
.dq-answer { line-height: 1.55; }
.dq-text { font-size: 0.98rem; }
.dq-answer sup.ref { font-weight: 700; font-size: 0.72em; margin-left: 1px; }
.dq-answer a.dq-ref { color: #4338ca; text-decoration: none; border-radius: 3px; padding: 0 1px;
  cursor: pointer; }
.dq-answer a.dq-ref:hover { background: #e0e7ff; }
.dq-answer a.dq-ref:focus-visible { background: #e0e7ff; outline: 2px solid #6366f1; }
.dq-tools { margin-top: 6px; font-size: 0.78rem; }
.dq-tools a.dq-copy { color: #4338ca; text-decoration: none; border: 1px solid #c7d2fe; border-radius: 999px;
  padding: 1px 10px; }
.dq-tools a.dq-copy:hover, .dq-tools a.dq-copy:focus-visible { background: #eef2ff; }
.dq-stopped { opacity: 0.85; }
pre.dq-plain { display: none !important; }
#dq-chat-tools { gap: 8px !important; }
#dq-chat-tools button { flex: 0 1 auto !important; min-width: 0 !important; font-weight: 400;
  padding: 4px 14px; }
.dq-head { font-weight: 700; margin-bottom: 4px; }
.dq-refused { border-left: 4px solid #d97706; background: #fffbeb; color: #78350f;
  padding: 8px 12px; border-radius: 8px; }
.dq-refused .dq-head { color: #92400e; }
.dq-refused .dq-text { color: #78350f; }
.dq-conf { display: inline-block; font-size: 0.72rem; font-weight: 600; border-radius: 999px;
  padding: 1px 8px; margin-bottom: 4px; }
.dq-conf-confident { background: #dcfce7; color: #166534; }
.dq-conf-probable { background: #fef3c7; color: #92400e; }
.dq-probable { border-left: 4px dashed #d97706; padding-left: 10px; }
.dark .dq-conf-confident { background: #14532d; color: #bbf7d0; }
.dark .dq-conf-probable { background: #3b2506; color: #fde68a; }
.dq-invalid { border-left: 4px solid #94a3b8; background: #f1f5f9; color: #334155;
  padding: 8px 12px; border-radius: 8px; }
.dq-foot { font-size: 0.72rem; color: #64748b; margin-top: 6px; }

/* citation cards */
.dq-cards { margin-top: 10px; display: flex; flex-direction: column; gap: 6px; }
.dq-cards-title { font-size: 0.72rem; text-transform: uppercase; letter-spacing: 0.06em;
  font-weight: 700; color: #64748b; }
a.dq-card { display: block; border: 1px solid #e2e8f0; border-left: 4px solid #6366f1; border-radius: 8px;
  background: #ffffff; padding: 6px 10px; color: #1e293b; text-decoration: none; cursor: pointer; }
a.dq-card:hover { border-color: #a5b4fc; box-shadow: 0 1px 4px rgba(79, 70, 229, 0.15); }
a.dq-card:focus-visible { outline: 2px solid #6366f1; outline-offset: 1px; }
.dq-card-chosen { box-shadow: 0 0 0 2px #6366f1 !important; }
.dq-card.dq-related { border-left-color: #d97706; background: #fffdf7; }
.dq-pos { color: #64748b; }
.dq-card-head { display: flex; gap: 8px; align-items: center; font-size: 0.75rem; color: #64748b;
  flex-wrap: wrap; }
.dq-num { display: inline-flex; align-items: center; justify-content: center; min-width: 18px;
  height: 18px; border-radius: 9px; background: #6366f1; color: #fff; font-weight: 700;
  font-size: 0.7rem; padding: 0 5px; }
.dq-related .dq-num { background: #d97706; }
.dq-doc { font-weight: 600; color: #334155; }
.dq-kind { margin-left: auto; text-transform: uppercase; letter-spacing: 0.05em; font-size: 0.65rem;
  font-weight: 700; color: #6366f1; }
.dq-related .dq-kind { color: #b45309; }
.dq-quote { display: block; font-size: 0.88rem; margin-top: 3px; font-style: italic; color: #1e293b; }

/* the source panel */
.dq-source { border: 1px solid var(--border-color-primary); border-radius: 12px;
  background: var(--block-background-fill); overflow: hidden; }
.dq-source-head { padding: 10px 14px; border-bottom: 1px solid var(--border-color-primary);
  display: flex; flex-direction: column; gap: 2px; }
.dq-source-title { font-weight: 700; }
.dq-source-meta { font-size: 0.78rem; color: var(--body-text-color-subdued); }
.dq-source-body { position: relative; white-space: pre-wrap; overflow-y: auto; height: 400px;
  padding: 12px 16px; font-size: 0.9rem; line-height: 1.65; }
.dq-source-empty { padding: 24px; color: var(--body-text-color-subdued); }
mark.dq-mark { background: #fef08a; color: #1e293b; border-radius: 3px; padding: 1px 2px;
  scroll-margin: 80px; transition: box-shadow 0.2s; }
mark.dq-mark-related { background: #ffedd5; border-bottom: 2px dotted #d97706; }
mark.dq-active { background: #fde047; box-shadow: inset 0 -2px 0 #6366f1; }
mark.dq-mark-related.dq-active { background: #fed7aa; box-shadow: none; }
.dq-mark-n { display: inline-block; font-size: 0.65rem; font-weight: 700; color: #fff;
  background: #6366f1; border-radius: 7px; padding: 0 5px; margin-right: 4px;
  vertical-align: 2px; font-style: normal; }
.dq-mark-related .dq-mark-n { background: #d97706; }
.dq-gap { display: block; text-align: center; color: #94a3b8; }

/* dark mode: same meaning, colours that stay readable on a dark page. One selector per rule:
   Gradio prefixes custom CSS per selector and mangles comma lists that start with .dark */
.dark .dq-answer a.dq-ref { color: #a5b4fc; }
.dark .dq-answer a.dq-ref:hover { background: #312e81; }
.dark .dq-tools a.dq-copy { color: #a5b4fc; border-color: #4338ca; }
.dark .dq-doc-act { color: #a5b4fc; }
.dark .dq-doc-delete { color: #fca5a5; }
.dark .dq-refused { background: #3b2506; border-left-color: #f59e0b; }
.dark .dq-refused { color: #fde68a; }
.dark .dq-refused .dq-text { color: #fde68a; }
.dark .dq-refused .dq-head { color: #fbbf24; }
.dark .dq-invalid { background: #1e293b; color: #cbd5e1; }
.dark .dq-invalid .dq-text { color: #cbd5e1; }
.dark .dq-card { background: #0f172a; border-color: #334155; border-left-color: #818cf8; }
.dark .dq-card.dq-related { background: #2a1a05; border-left-color: #f59e0b; }
.dark .dq-quote { color: #e2e8f0; }
.dark .dq-doc { color: #e2e8f0; }
.dark .dq-card-head { color: #94a3b8; }
.dark .dq-pos { color: #94a3b8; }
.dark .dq-foot { color: #94a3b8; }
.dark .dq-cards-title { color: #94a3b8; }
.dark .dq-kind { color: #a5b4fc; }
.dark .dq-related .dq-kind { color: #fbbf24; }

/* documents */
.dq-docs ul { list-style: none; padding: 0; margin: 6px 0 0; }
.dq-docs li { padding: 6px 0; border-bottom: 1px solid var(--border-color-primary);
  display: flex; flex-direction: column; }
.dq-docs-title { font-weight: 700; font-size: 0.9rem; }
.dq-doc-title { font-weight: 600; }
.dq-doc-meta { font-size: 0.78rem; color: var(--body-text-color-subdued); }
.dq-docs-empty { color: var(--body-text-color-subdued); }
.dq-upload { list-style: none; padding: 0; margin: 4px 0; font-size: 0.88rem; }
.dq-upload li { padding: 3px 0; }
.dq-up-icon { display: inline-block; width: 1.2em; font-weight: 700; }
.dq-up-ok .dq-up-icon { color: #16a34a; }
.dq-up-err { color: #b91c1c; }
.dq-up-err .dq-up-icon { color: #b91c1c; }
.dq-doc-actions { display: flex; gap: 10px; margin-top: 2px; font-size: 0.8rem; }
.dq-doc-act { color: #4338ca; }
.dq-doc-delete { color: #b91c1c; }
.dq-progress { list-style: none; padding: 0; margin: 4px 0; font-size: 0.86rem; }
.dq-progress li { padding: 3px 0; display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.dq-progress progress { width: 140px; height: 10px; }
.dq-prog-done .dq-prog-text { color: #15803d; }
.dq-prog-failed .dq-prog-text, .dq-prog-cancelled .dq-prog-text { color: #b91c1c; }
.dq-prog-error .dq-prog-text { color: #b91c1c; }
#dq-action, #dq-action-go { display: none !important; }
@media (max-width: 700px) {
  #dq-chat { height: 62vh !important; }
}
"""

# Runs in the browser after the source panel re-renders: bring the chosen sentence into view
# inside the panel's own scroll box (not the whole page), after the DOM has caught up.
SCROLL_JS = """
() => { setTimeout(() => {
  const box = document.getElementById('dq-source-body');
  if (!box) return;
  const mark = box.querySelector('mark.dq-active') || box.querySelector('mark.dq-mark');
  if (!mark) { box.scrollTop = 0; return; }
  box.scrollTo({top: Math.max(0, mark.offsetTop - 80), behavior: 'smooth'});
}, 80); }
"""

# The page script (in <head>, inline: nothing is fetched). The chatbot's sanitizer keeps links
# but drops data-* attributes and inline handlers, so answers carry their actions in ``href``:
#   #dq-cite-<message>-<n>   show citation n of that answer in the source panel
#   #dq-copy                 copy that answer as Markdown with its sources
#   #dq-delete-<id> / #dq-reindex-<id>   Documents-tab row actions
# One capturing listener turns a click (or Enter on a focused link) into a server event: it
# stores the action in ``window.dqAction`` and presses a hidden button whose event reads it.
# It also keeps the start of the newest answer in view (the chatbot's own autoscroll is off):
# when a new answer appears and again when it is complete, the chat scrolls so its question
# sits at the top, and the page follows on a phone.
HEAD = r"""
<script>
(() => {
  const send = (action) => {
    const go = document.getElementById('dq-action-go');
    if (!go) return;
    window.dqAction = action;
    go.click();
  };
  const copy = async (text, link) => {
    try { await navigator.clipboard.writeText(text); }
    catch (e) {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      document.execCommand('copy'); area.remove();
    }
    const old = link.textContent; link.textContent = 'Copied ✓';
    setTimeout(() => { link.textContent = old; }, 1500);
  };
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#dq-"]');
    if (!link) return;
    const href = link.getAttribute('href');
    let m;
    if ((m = href.match(/^#dq-cite-(\d+)-(\d+)$/))) {
      event.preventDefault(); event.stopPropagation();
      document.querySelectorAll('.dq-card-chosen').forEach(c => c.classList.remove('dq-card-chosen'));
      if (link.classList.contains('dq-card')) link.classList.add('dq-card-chosen');
      send('cite:' + m[1] + '-' + m[2]);
      if (window.innerWidth < 700) {  // on a phone the source panel is below the chat: go there
        setTimeout(() => {
          const panel = document.getElementById('dq-source-panel');
          if (panel) panel.scrollIntoView({behavior: 'smooth', block: 'start'});
        }, 400);
      }
    } else if (href === '#dq-copy') {
      event.preventDefault(); event.stopPropagation();
      const plain = link.closest('.dq-answer') && link.closest('.dq-answer').querySelector('.dq-plain');
      if (plain) copy(plain.textContent, link);
    } else if ((m = href.match(/^#dq-(delete|reindex)-(.+)$/))) {
      event.preventDefault(); event.stopPropagation();
      const name = decodeURIComponent(m[2]).replace(/^session-[0-9a-f]+\//, '');
      if (m[1] === 'delete' && !window.confirm('Delete ' + name + ' from the index?')) return;
      send(m[1] + ':' + m[2]);
    }
  }, true);
  let answers = 0, done = 0;
  const showNewest = () => {
    const chat = document.getElementById('dq-chat');
    if (!chat) return;
    const all = chat.querySelectorAll('.dq-answer');
    const finished = chat.querySelectorAll('.dq-answer.dq-done').length;
    const grew = all.length > answers || finished > done;
    answers = all.length; done = finished;
    if (!grew) return;  // only when an answer appears or is complete: never fight the reader
    const last = all[all.length - 1];
    let anchor = last;
    const users = chat.querySelectorAll('.user, [data-testid="user"]');
    if (users.length) anchor = users[users.length - 1];
    let box = last.parentElement;
    while (box && box !== chat) {
      const style = getComputedStyle(box);
      if (/(auto|scroll)/.test(style.overflowY) && box.scrollHeight > box.clientHeight + 2) break;
      box = box.parentElement;
    }
    if (box && box !== chat) {
      box.scrollTop += anchor.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    }
    const top = anchor.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 120) window.scrollBy(0, top - 60);
  };
  new MutationObserver(() => requestAnimationFrame(showNewest))
    .observe(document.documentElement, {childList: true, subtree: true});
})();
</script>
"""


def launch_options() -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` that give the page its look and keep it offline."""
    return {"theme": theme(), "css": CSS, "head": HEAD, "ssr_mode": False, "footer_links": [],
            "mcp_server": False, "show_error": True}
