// Keys page (to be built by its area).
export default {
  id: "keys",
  title: { zh: "密钥", en: "Keys" },
  ops: ["keys.read"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
