// Usage page (to be built by its area).
export default {
  id: "usage",
  title: { zh: "用量", en: "Usage" },
  ops: ["usage.read_own"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
