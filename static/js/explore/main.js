// The explore page's boot: builds the page's one object `app` (the URL state, the current
// result and view, the boot data, the test hooks) inside createExplorePage, then wires the
// parts to it: the player bar, the stages, loading, the settings form, uploads, keys and
// "Use it yourself". No module keeps mutable state of its own at the top level.

import { makeFormatter } from "../kit/arrays.js";
import { createSettingsForm } from "./settings.js";
import { cleanFilters, stateFromUrl, urlOf } from "./state.js";
import { bindPlayerKeys } from "../kit/keyboard.js";
import { exploreHooks } from "../kit/testhooks.js";
import { createPlayerBar } from "./playerbar.js";
import { createStages } from "./stages.js";
import { createLoader } from "./loading.js";
import { bindUploads } from "./uploads.js";
import { bindFilterFile } from "./filterfile.js";
import { createUsePanel } from "./use.js";
import { createExploreDownload } from "./download.js";
import { createTransposePanel } from "./transpose.js";
import { createDroppedNote, droppedWords } from "./dropped.js";
import { createTransposeOp } from "./transpose_op.js";

function createExplorePage(root, boot) {
  const defaults = { ...boot.default_settings, filters: cleanFilters(boot.default_settings.filters) };
  const dropped = [];
  const state = stateFromUrl(defaults, window.location.search, boot.limits, boot.transpose, dropped);
  if (!boot.samples.some((s) => s.name === state.settings.sample)) state.settings.sample = defaults.sample;
  const app = {
    root,
    $: (q) => root.querySelector(q),
    boot,
    limits: boot.limits,
    state,
    url: urlOf(state),
    hooks: exploreHooks(root.body),
    fmt: makeFormatter(state.ui.digits),
    firstVisit: !window.location.search, // opens mid-sweep on the convolution, playing
    current: null, // {image, raw, arrays, store, askedAt, pending}: the result shown
    view: null, // the stage view shown
    lastGood: null, // {settings, file} that the server accepted
    uploadChosenAt: 0,
  };
  app.dropped = createDroppedNote(app, defaults);
  app.dropped.add(dropped.map(droppedWords));
  app.bar = createPlayerBar(app);
  app.stages = createStages(app);
  app.loader = createLoader(app);
  app.use = createUsePanel(app);
  app.download = createExploreDownload(app);
  app.transpose = createTransposePanel(app);
  app.op = createTransposeOp(app);
  app.form = createSettingsForm({
    root: app.$("#settings"),
    boot,
    state,
    onChange: () => {
      app.url.sync();
      app.use.render();
      app.loader.requestCompute();
    },
    onInvalid: (message) => {
      app.loader.cancel();
      app.loader.showError({ messages: [message] }, false);
    },
    onSample: (name) => {
      state.settings.sample = name;
      state.file = null;
      app.$("#upload-error").hidden = true;
      app.form.render();
      app.loader.compute();
    },
  });
  bindUploads(app);
  bindPlayerKeys(app.root, {
    player: app.bar.player,
    ready: () => Boolean(app.view && app.view.total),
    tabs: () => app.stages.tabs(),
  });
  app.filterFile = bindFilterFile(app);
  app.form.render();
  app.op.render();
  if (dropped.length) app.url.sync(); // the address without what was dropped
  if (!app.filterFile.loadFromUrl()) app.loader.compute(); // else once the filters are in
  return app;
}

createExplorePage(document, JSON.parse(document.getElementById("boot").textContent));
