// Answering a lab query: by own property only, with its arguments parsed by the schema the
// lab's spec declares. The worker thread and the lab tests go through this one function.
import { parseQueryArgs } from '../../common/lab-contract';
import type { LabDefinition } from './context';

export async function answerQuery(lab: LabDefinition, name: string, args: unknown, model: unknown): Promise<unknown> {
  // A query named "constructor" or "__proto__" is no query.
  const handler = lab.queries && Object.hasOwn(lab.queries, name) ? lab.queries[name] : undefined;
  if (typeof handler !== 'function') throw new Error(`lab ${lab.spec.id} has no query "${name}"`);
  return handler(parseQueryArgs(lab.spec.queries, name, args), model);
}
