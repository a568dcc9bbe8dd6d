// A short status message at the bottom of the screen (announced politely).
const el = document.getElementById('toast');
let timer;

export function toast(text, kind = '') {
  el.textContent = text;
  el.className = `toast show ${kind}`;
  clearTimeout(timer);
  timer = setTimeout(() => {
    el.className = 'toast';
  }, 3500);
}
