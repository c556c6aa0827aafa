// Answers two customer questions and sorts two tickets, then prints what was used.
import { ask, router } from './router.js';
import { classify, stop } from './triage.js';

const answer = await ask('When are you open?');
console.log(`answer: ${answer.text} [deployment=${answer.deployment}]`);

const second = await ask('Do you ship abroad?');
console.log(`answer: ${second.text} [deployment=${second.deployment}]`);

for (const ticket of ['My invoice is wrong', 'The app crashes on start']) {
  const queue = await classify(ticket);
  console.log(`ticket: ${ticket} -> ${queue.deployment}`);
}

console.log(`strategy: ${router.strategy}`);
await stop();
