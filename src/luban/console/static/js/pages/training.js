// Training page (to be built by its area).
export default {
  id: "training",
  title: { zh: "训练", en: "Training" },
  ops: ["artifacts.write"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
