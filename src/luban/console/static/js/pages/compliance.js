// Compliance page (to be built by its area).
export default {
  id: "compliance",
  title: { zh: "合规", en: "Compliance" },
  ops: ["compliance.read"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
