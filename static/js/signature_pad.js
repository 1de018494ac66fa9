// The optional drawn signature on the signing page. Markup, inside the signing form:
//   <div data-signature-wrap hidden>
//     <canvas data-signature-pad width="600" height="200"></canvas>
//     <button type="button" data-signature-clear>Clear</button>
//   </div>
//   <input type="hidden" name="drawn_signature">
// Without JavaScript the area stays hidden and the typed name alone signs. With it, strokes of
// a mouse, finger or pen are drawn and, on submit, posted as a PNG data URL (empty if nothing
// was drawn). The canvas keeps its own pixel size whatever its size on screen, so the image
// stays within what the server accepts (contracts/esign/signature_image.py).
document.querySelectorAll("canvas[data-signature-pad]").forEach((canvas) => {
  const form = canvas.closest("form");
  const input = form.querySelector("input[name=drawn_signature]");
  const area = canvas.closest("[data-signature-wrap]");
  const clear = (area || form).querySelector("[data-signature-clear]");
  const pen = canvas.getContext("2d");
  pen.lineWidth = 2.5;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.strokeStyle = "#1b1f3b";
  let drawn = false;
  let last = null;

  if (area) area.hidden = false;
  canvas.style.touchAction = "none"; // a finger draws instead of scrolling the page

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * canvas.width) / box.width,
      y: ((event.clientY - box.top) * canvas.height) / box.height,
    };
  }

  function strokeTo(to) {
    pen.beginPath();
    pen.moveTo(last.x, last.y);
    pen.lineTo(to.x, to.y);
    pen.stroke();
    last = to;
  }

  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    strokeTo({ x: last.x + 0.1, y: last.y }); // a tap leaves a dot
    drawn = true;
  });
  canvas.addEventListener("pointermove", (event) => {
    if (last) strokeTo(point(event));
  });
  ["pointerup", "pointercancel"].forEach((type) =>
    canvas.addEventListener(type, () => {
      last = null;
    }),
  );

  if (clear) {
    clear.addEventListener("click", (event) => {
      event.preventDefault();
      pen.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      input.value = "";
    });
  }

  form.addEventListener("submit", () => {
    input.value = drawn ? canvas.toDataURL("image/png") : "";
  });

  // The page came back with an error (no name typed, say): show the drawing it kept.
  if (input.value.startsWith("data:image/png;base64,")) {
    const kept = new Image();
    kept.addEventListener("load", () => {
      pen.drawImage(kept, 0, 0);
      drawn = true;
    });
    kept.src = input.value;
  }
});
