// Real HTTP answers checked against a service's OpenAPI 3.1 document (services/<svc>/openapi.json,
// the file the service serves at /openapi.json): the status must be documented for the
// operation, the content type one the response lists, and the body must match that media
// type's schema (JSON Schema 2020-12, the dialect of OpenAPI 3.1).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { ROOT } from '@greeter/scripts/devstack';

export type Service = 'starter' | 'translator';

interface MediaType {
  schema?: unknown;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Response {
  description: string;
  headers?: Record<string, { schema?: unknown; required?: boolean }>;
  content?: Record<string, MediaType>;
}
export interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string; schema?: unknown; example?: unknown }[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, Response>;
}
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

export const documentPath = (service: Service): string => path.join(ROOT, 'services', service, 'openapi.json');

export function readDocument(service: Service): OpenApiDocument {
  return JSON.parse(readFileSync(documentPath(service), 'utf8')) as OpenApiDocument;
}

const pointer = (...parts: string[]) => parts.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

export interface AnswerToCheck {
  status: number;
  headers: Headers;
  /** Parsed JSON for JSON media types, the text otherwise. */
  body: unknown;
}

export class Contract {
  readonly doc: OpenApiDocument;
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly service: Service) {
    this.doc = readDocument(service);
    // The whole document under one id: a schema's "#/components/..." refs resolve inside it.
    this.ajv.addSchema(this.doc, service);
  }

  /** A validator for the schema at a JSON pointer of the document, e.g. /components/schemas/Name. */
  validator(at: string): ValidateFunction {
    let v = this.compiled.get(at);
    if (!v) {
      v = this.ajv.compile({ $ref: `${this.service}#${at}` });
      this.compiled.set(at, v);
    }
    return v;
  }

  /** Why `value` does not match the schema at `at`, or undefined when it does. */
  problem(at: string, value: unknown): string | undefined {
    const v = this.validator(at);
    return v(value) ? undefined : this.ajv.errorsText(v.errors);
  }

  operation(method: string, route: string): Operation {
    const op = this.doc.paths[route]?.[method.toLowerCase()];
    if (!op) throw new Error(`${this.service}: ${method} ${route} is not in the document`);
    return op;
  }

  /** Throws, saying what differs, unless the answer to `method route` matches the document. */
  check(method: string, route: string, answer: AnswerToCheck): void {
    const where = `${this.service} ${method} ${route} → ${answer.status}`;
    const op = this.operation(method, route);
    const key = String(answer.status) in op.responses ? String(answer.status) : 'default';
    const response = op.responses[key];
    if (!response) throw new Error(`${where}: status not documented (documented: ${Object.keys(op.responses).join(', ')})`);
    const at = (...parts: string[]) => pointer('paths', route, method.toLowerCase(), 'responses', key, ...parts);
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const value = answer.headers.get(name);
      if (value === null) {
        if (header.required) throw new Error(`${where}: required header ${name} missing`);
        continue;
      }
      const problem = header.schema === undefined ? undefined : this.problem(at('headers', name, 'schema'), value);
      if (problem) throw new Error(`${where}: header ${name}: ${JSON.stringify(value)} ${problem}`);
    }
    if (!response.content) return;
    const type = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const media = response.content[type];
    if (!media)
      throw new Error(`${where}: content type ${JSON.stringify(type)} not documented (${Object.keys(response.content).join(', ')})`);
    if (media.schema === undefined) return;
    const problem = this.problem(at('content', type, 'schema'), answer.body);
    if (problem) throw new Error(`${where}: body ${JSON.stringify(answer.body).slice(0, 300)} does not match the document: ${problem}`);
  }

  /** Every example the document gives (media type examples and schema examples), with the schema it must match. */
  examples(): { where: string; schemaAt: string; value: unknown }[] {
    const out: { where: string; schemaAt: string; value: unknown }[] = [];
    const media = (base: string[], content: Record<string, MediaType> | undefined) => {
      for (const [type, m] of Object.entries(content ?? {})) {
        const schemaAt = pointer(...base, 'content', type, 'schema');
        if (m.example !== undefined) out.push({ where: `${base.join(' ')} ${type} example`, schemaAt, value: m.example });
        for (const [name, e] of Object.entries(m.examples ?? {}))
          out.push({ where: `${base.join(' ')} ${type} ${name}`, schemaAt, value: e.value });
      }
    };
    for (const [route, ops] of Object.entries(this.doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        media(['paths', route, method, 'requestBody'], op.requestBody?.content);
        for (const [status, r] of Object.entries(op.responses)) media(['paths', route, method, 'responses', status], r.content);
        (op.parameters ?? []).forEach((p, i) => {
          if (p.example !== undefined)
            out.push({
              where: `${method} ${route} parameter ${p.name}`,
              schemaAt: pointer('paths', route, method, 'parameters', String(i), 'schema'),
              value: p.example,
            });
        });
      }
    }
    for (const [name, s] of Object.entries(this.doc.components?.schemas ?? {})) {
      for (const value of (s as { examples?: unknown[] }).examples ?? [])
        out.push({ where: `schema ${name}`, schemaAt: pointer('components', 'schemas', name), value });
    }
    return out;
  }
}
