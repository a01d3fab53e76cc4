// Using one's own image: the file picker, a file dropped anywhere on the page, or an image
// pasted from the clipboard. Files over the server's max_upload_bytes are refused here. A
// weight file (.safetensors, .npz) dropped on the page goes to the filters (filterfile.js).

import { EDITABLE } from "../kit/keyboard.js";

const WEIGHT_FILE = /\.(safetensors|npz)$/i;
const hasFiles = (ev) => [...(ev.dataTransfer?.types || [])].includes("Files");

export function bindUploads(app) {
  const { $, root, state } = app;
  const uploadError = $("#upload-error");
  const dropZone = $("#drop-overlay");
  const maxBytes = app.limits.max_upload_bytes;
  let dragDepth = 0;

  function useFile(file) {
    if (!file) return;
    if (WEIGHT_FILE.test(file.name || "")) {
      app.filterFile.loadFile(file);
      return;
    }
    app.uploadChosenAt = performance.now();
    uploadError.hidden = true;
    if (file.size > maxBytes) {
      uploadError.textContent = `This file is ${(file.size / 1048576).toFixed(1)} MB; the server takes at most ${(maxBytes / 1048576).toFixed(1)} MB.`;
      uploadError.hidden = false;
      return;
    }
    state.file = file;
    app.form.render();
    app.loader.compute({ fromUpload: true });
  }

  $("#upload").addEventListener("change", (ev) => {
    useFile(ev.target.files[0]);
    ev.target.value = "";
  });
  root.addEventListener("dragenter", (ev) => {
    if (!hasFiles(ev)) return;
    dragDepth += 1;
    dropZone.hidden = false;
  });
  root.addEventListener("dragleave", () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) dropZone.hidden = true;
  });
  root.addEventListener("dragover", (ev) => {
    if (hasFiles(ev)) ev.preventDefault();
  });
  root.addEventListener("drop", (ev) => {
    dragDepth = 0;
    dropZone.hidden = true;
    const file = ev.dataTransfer && ev.dataTransfer.files[0];
    if (!file) return;
    ev.preventDefault();
    useFile(file);
  });
  root.addEventListener("paste", (ev) => {
    const t = ev.target;
    if (t && EDITABLE.has(t.tagName)) return;
    const item = [...(ev.clipboardData?.items || [])].find((i) => i.kind === "file" && i.type.startsWith("image/"));
    if (!item) return;
    ev.preventDefault();
    const blob = item.getAsFile();
    useFile(new File([blob], blob.name || "pasted.png", { type: blob.type }));
  });
}
