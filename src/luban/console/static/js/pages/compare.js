// Side-by-side page (to be built by its area).
export default {
  id: "compare",
  title: { zh: "对比", en: "Side-by-side" },
  ops: ["models.call"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
