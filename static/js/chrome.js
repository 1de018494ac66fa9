// "Previous page" on the error pages: hidden until there is a page to go back to; the
// "Back to deals" link beside it serves a browser without JavaScript.
document.querySelectorAll("[data-history-back]").forEach((link) => {
  if (window.history.length < 2) return;
  link.hidden = false;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    window.history.back();
  });
});
