// Chat page (to be built by its area).
export default {
  id: "chat",
  title: { zh: "对话", en: "Chat" },
  ops: ["models.call"],
  strings: { zh: {}, en: {} },
  async render(root, ctx) {
    root.append(ctx.h("p", { class: "empty" }, "…"));
  },
};
