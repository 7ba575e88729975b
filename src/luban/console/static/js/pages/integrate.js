// Integrate page (to be built by its area).
export default {
  id: "integrate",
  title: { zh: "应用集成", en: "Integrate" },
  ops: ["models.list"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
