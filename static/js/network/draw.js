// The drawing pad: pointer events (mouse, touch, pen) draw round strokes on a canvas, and the
// pen's path (the strokes, in canvas pixels) goes to the server, which draws it again with a
// pen a share of the digit's own size (core/net_input.py), so a small digit is not a blob.

const PEN = 0.085; // the stroke width shown, as a share of the pad's side
const MIN_STEP = 1; // pen positions closer than this (canvas pixels) to the last add nothing
export const MAX_POINTS = 4096; // the server's limit on pen positions (core/net_input.py)

/** onStart() when a stroke begins, onChange() as it goes on, onStroke() when it ends. */
export function createPad(canvas, { onStroke, onChange, onStart = onChange }) {
  const ctx = canvas.getContext("2d");
  let drawing = false;
  let strokes = []; // [[x, y], ...] per stroke, canvas pixels
  let points = 0;

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
    ctx.lineTo(b[0] + 0.01, b[1]); // a zero-length line draws no round cap: a dot shows too
    ctx.stroke();
  }

  function add(p) {
    const stroke = strokes[strokes.length - 1];
    const last = stroke[stroke.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) < MIN_STEP || points >= MAX_POINTS) return;
    line(last, p);
    stroke.push([Math.round(p[0] * 10) / 10, Math.round(p[1] * 10) / 10]);
    points += 1;
  }

  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    if (points >= MAX_POINTS) return;
    canvas.setPointerCapture(e.pointerId);
    drawing = true;
    const p = point(e).map((v) => Math.round(v * 10) / 10);
    strokes.push([p]);
    points += 1;
    line(p, p);
    onStart();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of events.length ? events : [e]) add(point(ev));
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
      strokes = [];
      points = 0;
    },
    get inked() {
      return strokes.length > 0;
    },
    /** the drawing as the API's strokes input, or null when nothing is drawn (never an
     * empty drawing: the server would only say it is blank) */
    input() {
      return strokes.length ? { kind: "strokes", strokes } : null;
    },
    /** draw strokes through points given in [0, 1] coordinates (tests, demos) */
    stroke(...lines) {
      for (const pts of lines) {
        const px = pts.map(([x, y]) => [x * canvas.width, y * canvas.height]);
        strokes.push([px[0]]);
        points += 1;
        for (let i = 1; i < px.length; i += 1) add(px[i]);
      }
      onStroke();
    },
  };
}
