// Guard page (to be built by its area).
export default {
  id: "guard",
  title: { zh: "安全护栏", en: "Guard" },
  ops: ["guard.test"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
