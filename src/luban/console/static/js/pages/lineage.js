// Lineage page (to be built by its area).
export default {
  id: "lineage",
  title: { zh: "血缘", en: "Lineage" },
  ops: ["artifacts.read"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
