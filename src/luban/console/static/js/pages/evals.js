// Evaluations page (to be built by its area).
export default {
  id: "evals",
  title: { zh: "评测与变体", en: "Evaluations" },
  ops: ["artifacts.read"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
