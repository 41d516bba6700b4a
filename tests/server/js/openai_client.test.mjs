// Drives `dsv2 serve` with the official openai npm client: chat and completions (with suffix,
// i.e. FIM), streamed and not, models, errors, an aborted stream. Usage: node openai_client.test.mjs BASE_URL API_KEY
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });
const model = 'text-bf16';
const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Write a haiku about caches.' },
];

async function chat() {
  const res = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0 });
  assert.equal(res.object, 'chat.completion');
  assert.equal(res.choices[0].message.role, 'assistant');
  assert.equal(typeof res.choices[0].message.content, 'string');
  assert.equal(res.choices[0].finish_reason, 'length');
  assert.equal(res.usage.completion_tokens, 12);
  assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + 12);
  assert.equal(typeof res.usage.prompt_tokens_details.cached_tokens, 'number');

  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
  }
  assert.equal(text, res.choices[0].message.content, 'streamed text equals the non-streamed text');
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 12);
  assert.ok(usage.prompt_tokens_details.cached_tokens > 0, 'the repeated prompt was reused from the cache');
}

async function completionWithSuffix() {
  const req = { model, prompt: 'def fib(n):\n    ', suffix: '\n    return a\n', max_tokens: 8, temperature: 0 };
  const res = await client.completions.create(req);
  assert.equal(res.object, 'text_completion');
  assert.equal(typeof res.choices[0].text, 'string');
  assert.ok(['stop', 'length'].includes(res.choices[0].finish_reason));
  let text = '';
  for await (const chunk of await client.completions.create({ ...req, stream: true })) {
    text += chunk.choices[0]?.text ?? '';
  }
  assert.equal(text, res.choices[0].text);
}

async function models() {
  const list = await client.models.list();
  const ids = [];
  for await (const m of list) ids.push(m.id);
  assert.deepEqual(ids, [model]);
}

async function errors() {
  await assert.rejects(
    client.chat.completions.create({ model, messages: [], max_tokens: 4 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /non-empty/.test(e.message));
  await assert.rejects(
    client.chat.completions.create({ model, messages, max_tokens: 100000 }),
    (e) => e instanceof OpenAI.BadRequestError && /over the context/.test(e.message));
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o', messages, max_tokens: 4 }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
  const wrongKey = new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(wrongKey.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
}

async function abortMidStream() {
  const stream = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 400, stream: true });
  let chunks = 0;
  for await (const _ of stream) {
    if (++chunks === 3) {
      stream.controller.abort();
      break;
    }
  }
  // The server is fine afterwards.
  const res = await client.completions.create({ model, prompt: 'x', max_tokens: 2 });
  assert.equal(res.usage.completion_tokens, 2);
}

for (const [name, test] of Object.entries({ chat, completionWithSuffix, models, errors, abortMidStream })) {
  await test();
  console.log(`ok - ${name}`);
}
