// Audit page (to be built by its area).
export default {
  id: "audit",
  title: { zh: "审计", en: "Audit" },
  ops: ["audit.read"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
