// Keyboard: "/" focuses the search box on any page that has one.
document.addEventListener("keydown", (event) => {
  const search = document.querySelector("[data-search]");
  if (event.key === "/" && search && document.activeElement.tagName !== "INPUT"
      && document.activeElement.tagName !== "TEXTAREA") {
    event.preventDefault();
    search.focus();
    search.select();
  }
});
