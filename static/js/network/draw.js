// The drawing pad: pointer events (mouse, touch, pen) draw round strokes on a canvas; the
// ink (the canvas's alpha, 0..255 per pixel, as base64 bytes) goes to the server, which
// crops and scales it.

const PEN = 0.085; // stroke width, as a share of the pad's side

/** Standard padded base64 of bytes (the browser's own encoder when it has one). */
function base64(bytes) {
  if (bytes.toBase64) return bytes.toBase64();
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** onStart() when a stroke begins, onChange() as it goes on, onStroke() when it ends. */
export function createPad(canvas, { onStroke, onChange, onStart = onChange }) {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let drawing = false;
  let last = null;
  let inked = false;

  function point(e) {
    const box = canvas.getBoundingClientRect();
    return [((e.clientX - box.left) / box.width) * canvas.width,
      ((e.clientY - box.top) / box.height) * canvas.height];
  }

  function line(a, b) {
    ctx.strokeStyle = "#111";
    ctx.lineWidth = PEN * canvas.width;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
  }

  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    drawing = true;
    last = point(e);
    line(last, last);
    inked = true;
    onStart();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) {
      const p = point(ev);
      line(last, p);
      last = p;
    }
    onChange();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    onStroke();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  return {
    clear() {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      inked = false;
    },
    get inked() {
      return inked;
    },
    /** the ink (the alpha channel, 0..255 a pixel, row after row) as the API's compact
     * form { shape: [rows, columns], ink_base64 }, or null when nothing is drawn */
    ink() {
      if (!inked) return null;
      const { width, height } = canvas;
      const { data } = ctx.getImageData(0, 0, width, height);
      const bytes = new Uint8Array(width * height);
      for (let i = 0; i < bytes.length; i += 1) bytes[i] = data[i * 4 + 3];
      return { shape: [height, width], ink_base64: base64(bytes) };
    },
    /** draw a stroke through points given in [0, 1] coordinates (tests, demos) */
    stroke(points) {
      const px = points.map(([x, y]) => [x * canvas.width, y * canvas.height]);
      for (let i = 1; i < px.length; i += 1) line(px[i - 1], px[i]);
      inked = true;
      onStroke();
    },
  };
}
