// Drives every OpenAI route of a Switchyard gateway with the official
// `openai` npm package. The Go test TestOpenAIRoutesWithNodeSDK starts the
// gateway and a mock upstream, runs this script with SWITCHYARD_BASE
// (the gateway's /v1 URL) and SWITCHYARD_KEY, and checks the billing.
// Any failed expectation exits non-zero with a message on stderr.
import OpenAI, { toFile } from "openai";

const base = process.env.SWITCHYARD_BASE;
const key = process.env.SWITCHYARD_KEY;
if (!base || !key) {
  console.error("SWITCHYARD_BASE and SWITCHYARD_KEY are required");
  process.exit(2);
}
const client = new OpenAI({ baseURL: base, apiKey: key, maxRetries: 0 });

function expect(cond, what) {
  if (!cond) {
    throw new Error("expectation failed: " + what);
  }
}

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(100).fill(0)]);
const mp3 = new Uint8Array([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0, ...new Array(64).fill(0)]);
const done = [];

async function main() {
  const chat = await client.chat.completions.create({ model: "test-model", messages: [{ role: "user", content: "hello" }] });
  expect(chat.choices[0].message.content === "Hello! How can I assist you today?", "chat content");
  done.push("chat");

  const stream = await client.chat.completions.create({
    model: "test-model", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true },
  });
  let text = "", usage = null;
  for await (const chunk of stream) {
    if (chunk.choices.length > 0) text += chunk.choices[0].delta.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  expect(text === "word word word word word " && usage && usage.total_tokens === 17, "chat stream " + JSON.stringify({ text, usage }));
  done.push("chat-stream");

  const emb = await client.embeddings.create({ model: "test-embed", input: "hello" });
  expect(emb.data.length === 1 && emb.data[0].embedding.length === 3, "embeddings");
  done.push("embeddings");

  const models = await client.models.list();
  expect(models.data.some((m) => m.id === "dall-e-3"), "models");
  done.push("models");

  const img = await client.images.generate({ model: "dall-e-3", prompt: "a cat", n: 2, size: "1024x1024" });
  expect(img.data.length === 2 && img.data[0].url.startsWith("https://"), "images.generate");
  done.push("images.generate");

  const edit = await client.images.edit({ model: "dall-e-2", image: await toFile(png, "cat.png", { type: "image/png" }), prompt: "a hat", size: "512x512" });
  expect(edit.data.length === 1, "images.edit");
  done.push("images.edit");

  const variation = await client.images.createVariation({ model: "dall-e-2", image: await toFile(png, "cat.png", { type: "image/png" }), n: 3, size: "256x256" });
  expect(variation.data.length === 3, "images.createVariation");
  done.push("images.createVariation");

  const speech = await client.audio.speech.create({ model: "tts-1", input: "Hello, wörld! 你好", voice: "alloy" });
  const audio = new Uint8Array(await speech.arrayBuffer());
  expect(audio.length === mp3.length && audio[0] === 0x49 && speech.headers.get("content-type") === "audio/mpeg", "audio.speech");
  done.push("audio.speech");

  const tr = await client.audio.transcriptions.create({ model: "whisper-1", file: await toFile(mp3, "a.mp3", { type: "audio/mpeg" }) });
  expect(tr.text === "The beach was a popular spot on a hot summer day.", "audio.transcriptions");
  done.push("audio.transcriptions");

  const srt = await client.audio.transcriptions.create({ model: "whisper-1", response_format: "srt", file: await toFile(mp3, "a.mp3", { type: "audio/mpeg" }) });
  expect(typeof srt === "string" && srt.includes("00:00:00,000 --> "), "audio.transcriptions srt " + JSON.stringify(srt));
  done.push("audio.transcriptions-srt");

  const tl = await client.audio.translations.create({ model: "whisper-1", file: await toFile(mp3, "a.mp3", { type: "audio/mpeg" }) });
  expect(tl.text === "The beach was a popular spot on a hot summer day.", "audio.translations");
  done.push("audio.translations");

  const mod = await client.moderations.create({ model: "omni-moderation-latest", input: "I want to kill them." });
  expect(mod.results.length === 1 && mod.results[0].flagged === true, "moderations");
  done.push("moderations");

  const resp = await client.responses.create({ model: "test-model", input: "Tell me a story" });
  expect(resp.output_text.includes("unicorn") && resp.usage.input_tokens === 36, "responses");
  done.push("responses");

  const rstream = await client.responses.create({ model: "test-model", input: "hi", stream: true });
  let rtext = "", completed = false;
  for await (const ev of rstream) {
    if (ev.type === "response.output_text.delta") rtext += ev.delta;
    if (ev.type === "response.completed") completed = ev.response.usage.total_tokens === 48;
  }
  expect(rtext === "Hi there! How can I assist you today?" && completed, "responses stream " + rtext);
  done.push("responses-stream");

  try {
    await client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] });
    expect(false, "an unknown model must fail");
  } catch (e) {
    expect(e instanceof OpenAI.APIError && e.status === 503, "unknown model error " + e);
  }
  done.push("errors");
}

main().then(
  () => {
    console.log(JSON.stringify({ ok: true, done }));
  },
  (err) => {
    console.error(String(err && err.stack ? err.stack : err));
    console.error("completed before the failure: " + done.join(", "));
    process.exit(1);
  },
);
