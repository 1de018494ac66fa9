// Deal Desk's signature screens (templates/esign/desk/).

// The Signature panel replaces itself every few seconds while out for signature: not while
// someone is filling in one of its forms (a void reason, a paper upload), which would be lost.
document.addEventListener("htmx:beforeRequest", (event) => {
  const panel = event.target.closest && event.target.closest("[data-live-panel]");
  if (!panel) return;
  const busy = panel.querySelector("details[open]") || panel.contains(document.activeElement)
    && ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (busy) event.preventDefault();
});

// "Copy" beside a read-only field: shown only where a script can copy; without one the
// field is selected by hand.
document.querySelectorAll("[data-copy-from]").forEach((button) => {
  const field = document.getElementById(button.dataset.copyFrom);
  if (!field) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      document.execCommand("copy");  // http on a LAN: no Clipboard API outside secure contexts
    }
    button.textContent = "Copied";
  });
});
