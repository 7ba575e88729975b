// Datasets page (to be built by its area).
export default {
  id: "datasets",
  title: { zh: "数据集", en: "Datasets" },
  ops: ["artifacts.read"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
