// Integrate: copy-paste snippets that work against this deployment (its base URL, its models), the settings an
// OpenAI-compatible app builder asks for (Dify, FastGPT, Open WebUI), and the chat widget's one <script> tag.

const STRINGS = {
  zh: {
    intro: "以下代码可直接用于本部署：网关兼容 OpenAI 接口，任何 OpenAI 客户端改一下 base URL 和密钥即可接入。",
    model: "模型", key: "代码中使用的密钥", key_ph: "sk-luban-...", use_mine: "填入我当前的密钥", key_note: "应用请使用 app 角色、限定模型范围的密钥（管理员在“密钥”页创建），不要把管理员密钥写进代码。",
    copy: "复制", copied: "已复制", copy_failed: "复制失败：请手动选中文本复制。",
    curl: "curl", python: "Python（openai）", node: "JavaScript / Node.js（openai）", langchain: "LangChain（langchain-openai）",
    install: "安装", builders: "应用搭建平台（Dify、FastGPT、Open WebUI 等）", builders_intro: "在平台中添加“OpenAI 兼容”模型供应商，填写：",
    field: "设置项", value: "值", base_url: "API 地址（Base URL）", api_key: "API 密钥", model_name: "模型名称",
    dify: "Dify：设置 → 模型供应商 → OpenAI-API-compatible → 添加模型（类型 LLM，对话模式 Chat）。",
    fastgpt: "FastGPT：在 OneAPI / 渠道中新增 OpenAI 渠道，代理地址填上面的 API 地址，模型填模型名称。",
    openwebui: "Open WebUI：管理员设置 → 外部连接 → OpenAI API，填 API 地址和密钥。",
    docker_note: "平台运行在 Docker 中时，127.0.0.1 指容器本身：请改用本机在网络中的地址或主机名。",
    widget: "网页聊天挂件", widget_intro: "在公司自己的网页中加入这一行，即可出现聊天窗口（护栏与 AIGC 标识照常生效）。请使用绑定该网站来源的 app 密钥。",
    no_models: "此网关没有你可调用的模型；代码中的模型名请按实际填写。",
  },
  en: {
    intro: "These snippets work against this deployment as they are: the gateway speaks OpenAI's API, so any OpenAI client connects with a different base URL and key.",
    model: "Model", key: "Key shown in the snippets", key_ph: "sk-luban-...", use_mine: "Insert my current key", key_note: "Applications should use an app-role key scoped to their models (an admin creates one on the Keys page); never put an admin key in code.",
    copy: "Copy", copied: "Copied", copy_failed: "Copy failed: select the text and copy it by hand.",
    curl: "curl", python: "Python (openai)", node: "JavaScript / Node.js (openai)", langchain: "LangChain (langchain-openai)",
    install: "Install", builders: "App builders (Dify, FastGPT, Open WebUI, …)", builders_intro: "Add an OpenAI-compatible model provider with these settings:",
    field: "Setting", value: "Value", base_url: "API base URL", api_key: "API key", model_name: "Model name",
    dify: "Dify: Settings → Model Provider → OpenAI-API-compatible → Add model (type LLM, completion mode Chat).",
    fastgpt: "FastGPT: add an OpenAI channel in OneAPI / channels with the base URL above as its proxy address and the model name.",
    openwebui: "Open WebUI: Admin Settings → Connections → OpenAI API: the base URL and the key.",
    docker_note: "When the builder runs in Docker, 127.0.0.1 is the container itself: use this machine's address or host name on the network instead.",
    widget: "Chat widget for a web page", widget_intro: "Add this one line to your company's own page for a chat window (with the guard and AIGC labels on). Use an app key bound to that site's origin.",
    no_models: "This gateway has no model you can call; fill in the model name yourself.",
  },
};

const KEY_PLACEHOLDER = "sk-luban-YOUR-KEY";

const py = (s) => JSON.stringify(s);  // a JSON string is a valid Python and JavaScript string literal
const sh = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;

export function snippets(base, model, key) {
  const api = `${base}v1`;
  const body = JSON.stringify({ model, messages: [{ role: "user", content: "Hello" }] });
  return {
    curl: `curl ${api}/chat/completions \\
  -H "Authorization: Bearer ${key}" \\
  -H "Content-Type: application/json" \\
  -d ${sh(body)}`,
    python: `from openai import OpenAI

client = OpenAI(base_url=${py(api)}, api_key=${py(key)})
reply = client.chat.completions.create(
    model=${py(model)},
    messages=[{"role": "user", "content": "Hello"}],
)
print(reply.choices[0].message.content)`,
    node: `import OpenAI from "openai";

const client = new OpenAI({ baseURL: ${py(api)}, apiKey: ${py(key)} });
const stream = await client.chat.completions.create({
  model: ${py(model)},
  messages: [{ role: "user", content: "Hello" }],
  stream: true,
});
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
console.log();`,
    langchain: `from langchain_openai import ChatOpenAI

llm = ChatOpenAI(base_url=${py(api)}, api_key=${py(key)}, model=${py(model)})
print(llm.invoke("Hello").content)`,
    widget: `<script src="${base}console/widget.js" data-key="${key.replace(/"/g, "&quot;")}" data-model="${model.replace(/"/g, "&quot;")}"></script>`,
  };
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");  // http:// pages have no clipboard API: the old way
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

export default {
  id: "integrate",
  title: { zh: "应用集成", en: "Integrate" },
  ops: ["models.list"],
  strings: STRINGS,
  async render(root, ctx) {
    const { h, t } = ctx;
    const base = new URL("..", document.baseURI).href;  // the gateway's root, as this browser reaches it
    const names = ((await ctx.api("../v1/models")).data || []).map((m) => m.id);
    const model = h("select", { id: "int-model" }, (names.length ? names : ["MODEL"]).map((n) => h("option", { value: n }, n)));
    const key = h("input", { id: "int-key", placeholder: t("key_ph"), autocomplete: "off", style: "width:320px" });
    const mine = h("button", { id: "int-use-mine", onclick: () => { key.value = sessionStorage.getItem("luban.key") || ""; fill(); } }, t("use_mine"));
    const blocks = {};
    const block = (id, title, lang, install, note) => {
      const pre = h("pre", { id: `snippet-${id}`, "data-lang": lang });
      const btn = h("button", { class: "copy", "data-copy": id, onclick: async () => {
        const ok = await copy(pre.textContent);
        btn.textContent = ok ? t("copied") : t("copy");
        if (!ok) ctx.toast("error", t("copy_failed"));
        setTimeout(() => { btn.textContent = t("copy"); }, 1500);
      } }, t("copy"));
      blocks[id] = pre;
      return h("div", { class: "panel" }, h("div", { class: "row" }, h("h2", { class: "grow", style: "margin:0" }, title), btn),
        install ? h("div", { class: "muted", style: "font-size:12.5px" }, `${t("install")}: `, h("code", {}, install)) : null,
        note ? h("div", { class: "muted", style: "font-size:12.5px" }, note) : null, pre);
    };
    const settings = h("tbody", { id: "int-settings" });
    const fill = () => {
      const s = snippets(base, model.value, key.value.trim() || KEY_PLACEHOLDER);
      for (const [id, pre] of Object.entries(blocks)) pre.textContent = s[id];
      const rows = [[t("base_url"), `${base}v1`], [t("api_key"), key.value.trim() || KEY_PLACEHOLDER], [t("model_name"), model.value]];
      settings.replaceChildren(...rows.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, h("code", {}, v)),
        h("td", { style: "width:80px" }, h("button", { onclick: () => copy(v).then((ok) => ctx.toast(ok ? "ok" : "error", ok ? t("copied") : t("copy_failed"), 1500)) }, t("copy"))))));
    };
    model.addEventListener("change", fill);
    key.addEventListener("input", fill);
    root.append(h("p", { class: "muted" }, t("intro")));
    if (!names.length) root.append(ctx.banner("info", t("no_models")));
    root.append(
      h("div", { class: "panel row" }, h("label", {}, t("model"), model), h("label", {}, t("key"), key), mine,
        h("p", { class: "muted", style: "font-size:12.5px;margin:0;flex-basis:100%" }, t("key_note"))),
      h("div", { class: "cols" },
        h("div", {}, block("curl", t("curl"), "bash"), block("python", t("python"), "python", "pip install openai")),
        h("div", {}, block("node", t("node"), "javascript", "npm install openai"), block("langchain", t("langchain"), "python", "pip install langchain-openai"))),
      h("div", { class: "panel", id: "int-builders" }, h("h2", { style: "margin-top:0" }, t("builders")),
        h("p", {}, t("builders_intro")),
        h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, t("field")), h("th", {}, t("value")), h("th", {}))), settings),
        h("ul", { style: "font-size:13px" }, h("li", {}, t("dify")), h("li", {}, t("fastgpt")), h("li", {}, t("openwebui"))),
        h("p", { class: "muted", style: "font-size:12.5px" }, t("docker_note"))),
      block("widget", t("widget"), "html", null, t("widget_intro")));
    fill();
  },
};
