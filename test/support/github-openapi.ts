/**
 * GitHub's REST API description (the OpenAPI 3.0 documents GitHub publishes, as the @octokit/openapi package ships
 * them) as a checker for the local GitHub stand-in: which operation a request is, whether its path and query
 * parameters and its body are what that operation takes, and whether an answer is one the operation declares.
 */
import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** api.github.com, or the newest GitHub Enterprise Server description the package ships. */
export type DescriptionName = 'api.github.com' | 'ghes-3.19';

type JsonObject = { [key: string]: unknown };
interface Reference {
  $ref: string;
}
interface MediaType {
  schema?: JsonObject;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonObject;
  'x-multi-segment'?: boolean;
}
interface ResponseObject {
  description: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId: string;
  parameters?: Array<Parameter | Reference>;
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, ResponseObject | Reference>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonObject>; parameters: Record<string, Parameter>; responses: Record<string, ResponseObject> };
}

const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head'] as const;

/**
 * Answers GitHub gives on any path though its description declares them on few: a bad or missing credential (401),
 * a rate limit or a permission the credential lacks (403, 429), a repository that is not there or not visible to the
 * credential (404), and server trouble (5xx). They are checked against GitHub's error body (basic-error).
 */
const UNIVERSAL_ERROR_STATUSES = new Set([401, 403, 404, 429, 500, 502, 503, 504]);

/** OpenAPI-only annotations that are no JSON Schema keywords; `nullable` is translated, not dropped. */
const OPENAPI_ONLY_KEYWORDS = new Set(['example', 'discriminator', 'xml', 'externalDocs']);

/** Where the description's component schemas live for Ajv (never fetched: every one is added up front). */
const SCHEMA_BASE = 'https://github-openapi.invalid/components/schemas/';

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isReference(value: unknown): value is Reference {
  return isObject(value) && typeof value.$ref === 'string';
}

function schemaRef(ref: string): string {
  const name = ref.replace(/^#\/components\/schemas\//, '');
  if (name === ref) throw new Error(`unexpected schema reference ${ref}`);
  return SCHEMA_BASE + encodeURIComponent(name);
}

/**
 * An OpenAPI 3.0 schema as JSON Schema: component references point at the schemas added to Ajv, `nullable: true`
 * becomes "this or null" (3.0's nullable also appears without `type`, which Ajv's own nullable support refuses), and
 * annotations JSON Schema does not know are left out.
 */
function toJsonSchema(schema: JsonObject): JsonObject {
  if (isReference(schema)) return { $ref: schemaRef(schema.$ref) };
  const converted: JsonObject = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === 'nullable' || OPENAPI_ONLY_KEYWORDS.has(keyword) || keyword.startsWith('x-')) continue;
    if ((keyword === 'items' || keyword === 'additionalProperties' || keyword === 'not') && isObject(value)) converted[keyword] = toJsonSchema(value);
    else if ((keyword === 'allOf' || keyword === 'anyOf' || keyword === 'oneOf') && Array.isArray(value)) converted[keyword] = value.map((item) => toJsonSchema(item as JsonObject));
    else if (keyword === 'properties' && isObject(value)) converted[keyword] = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, toJsonSchema(property as JsonObject)]));
    else converted[keyword] = value;
  }
  return schema.nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}

function createAjv(document: OpenApiDocument, coerceTypes: boolean): Ajv {
  // strictTypes off: GitHub's description gives `properties` without `type: object` here and there, which is valid.
  // validateSchema off: checking GitHub's thousand schemas against the meta-schema doubles the load time, and strict
  // mode still refuses any keyword Ajv does not know when it compiles one.
  const ajv = new Ajv({ strict: true, strictTypes: false, allowUnionTypes: true, coerceTypes, validateSchema: false });
  addFormats(ajv);
  // GitHub's own format for `owner/name`.
  ajv.addFormat('repo.nwo', /^[^/]+\/[^/]+$/);
  for (const [name, schema] of Object.entries(document.components.schemas)) ajv.addSchema(toJsonSchema(schema), SCHEMA_BASE + encodeURIComponent(name));
  return ajv;
}

/** One method on one path of the description. */
export interface Route {
  method: string;
  /** The description's path template, e.g. `/repos/{owner}/{repo}/pulls`. */
  path: string;
  operationId: string;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  parameterNames: string[];
  literalSegments: number;
  operation: Operation;
}

export interface MatchedRequest {
  route: Route;
  /** Path parameters, percent-decoded. */
  pathParameters: Record<string, string>;
}

export interface RequestToCheck {
  pathParameters: Record<string, string>;
  query: URLSearchParams;
  /** The request's Content-Type, when it had a body. */
  contentType: string | undefined;
  /** The parsed JSON body; undefined when there was none. */
  body: unknown;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function errorsText(ajv: Ajv, errors: ErrorObject[] | null | undefined, dataVar: string): string {
  return ajv.errorsText(errors, { dataVar });
}

export class OpenApiDescription {
  readonly #document: OpenApiDocument;
  readonly #routes: CompiledRoute[] = [];
  /** Bodies are checked as they are; parameters arrive as text and are coerced to their schema's type first. */
  readonly #bodies: Ajv;
  readonly #parameters: Ajv;
  readonly #validators = new Map<string, ValidateFunction>();

  private constructor(
    readonly name: DescriptionName,
    document: OpenApiDocument,
  ) {
    this.#document = document;
    this.#bodies = createAjv(document, false);
    this.#parameters = createAjv(document, true);
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of HTTP_METHODS) {
        const operation = item[method];
        if (operation === undefined) continue;
        const multiSegment = new Set(this.#parametersOf(operation).filter((parameter) => parameter['x-multi-segment'] === true).map((parameter) => parameter.name));
        const parameterNames: string[] = [];
        // A path parameter is one segment, except those the description marks as possibly spanning several (a branch
        // or ref with `/` in it, which GitHub takes unencoded too).
        const source = path.replace(/\{([^}]+)\}|[^{]+/g, (text, parameter: string | undefined) => {
          if (parameter === undefined) return escapeRegExp(text);
          parameterNames.push(parameter);
          return multiSegment.has(parameter) ? '(.+)' : '([^/]+)';
        });
        const literalSegments = path.split('/').filter((segment) => segment !== '' && !segment.includes('{')).length;
        this.#routes.push({ method: method.toUpperCase(), path, operationId: operation.operationId, pattern: new RegExp(`^${source}$`), parameterNames, literalSegments, operation });
      }
    }
    // The most literal template wins: `/pulls/comments` is not `/pulls/{pull_number}`.
    this.#routes.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** Reads the description once; loading and checking it takes a moment, so share one per test file. */
  static load(name: DescriptionName): OpenApiDescription {
    const file = require.resolve(`@octokit/openapi/generated/${name}.json`);
    return new OpenApiDescription(name, JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument);
  }

  /** The operation a request is, from its method and raw (still percent-encoded) path; undefined when none. */
  match(method: string, rawPath: string): MatchedRequest | undefined {
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(rawPath);
      if (found === null) continue;
      const pathParameters: Record<string, string> = {};
      try {
        route.parameterNames.forEach((name, index) => (pathParameters[name] = decodeURIComponent(found[index + 1] ?? '')));
      } catch {
        return undefined;
      }
      return { route: { method: route.method, path: route.path, operationId: route.operationId }, pathParameters };
    }
    return undefined;
  }

  /** What is wrong with a request for `route`; [] when it is one the operation takes. */
  checkRequest(route: Route, request: RequestToCheck): string[] {
    const operation = this.#operation(route);
    const problems: string[] = [];
    const parameters = this.#parametersOf(operation);
    for (const parameter of parameters.filter((each) => each.in === 'path')) {
      const value = request.pathParameters[parameter.name];
      if (value === undefined) problems.push(`path parameter ${parameter.name} is missing`);
      else problems.push(...this.#checkParameter(route, parameter, value));
    }
    const queryNames = new Set(request.query.keys());
    for (const parameter of parameters.filter((each) => each.in === 'query')) {
      queryNames.delete(parameter.name);
      const values = request.query.getAll(parameter.name);
      if (values.length === 0) {
        if (parameter.required === true) problems.push(`query parameter ${parameter.name} is required`);
        continue;
      }
      const isArray = parameter.schema?.type === 'array';
      if (!isArray && values.length > 1) problems.push(`query parameter ${parameter.name} is given ${values.length} times`);
      else problems.push(...this.#checkParameter(route, parameter, isArray ? values : (values[0] ?? '')));
    }
    for (const name of queryNames) problems.push(`query parameter ${name} is not one ${route.operationId} takes`);
    problems.push(...this.#checkRequestBody(route, operation, request));
    return problems;
  }

  /** What is wrong with an answer to `route`; [] when the operation declares it. `body` undefined: no body. */
  checkResponse(route: Route, status: number, body: unknown): string[] {
    const operation = this.#operation(route);
    const declared = operation.responses[String(status)];
    let response: ResponseObject;
    if (declared !== undefined) response = isReference(declared) ? (this.#component('responses', declared.$ref) as ResponseObject) : declared;
    else if (UNIVERSAL_ERROR_STATUSES.has(status)) response = { description: 'any path', content: { 'application/json': { schema: { $ref: '#/components/schemas/basic-error' } } } };
    else return [`status ${status} is not declared for ${route.operationId} (declared: ${Object.keys(operation.responses).join(', ')})`];
    const schema = response.content?.['application/json']?.schema;
    if (schema === undefined) return body === undefined ? [] : [`status ${status} of ${route.operationId} has no body, but one was sent`];
    if (body === undefined) return [`status ${status} of ${route.operationId} needs a JSON body`];
    const validate = this.#validator(`${route.operationId} ${status}`, this.#bodies, schema);
    return validate(body) ? [] : [`response ${status} of ${route.operationId}: ${errorsText(this.#bodies, validate.errors, 'body')}`];
  }

  #operation(route: Route): Operation {
    const operation = this.#document.paths[route.path]?.[route.method.toLowerCase()];
    if (operation === undefined) throw new Error(`${route.method} ${route.path} is not in ${this.name}`);
    return operation;
  }

  #parametersOf(operation: Operation): Parameter[] {
    return (operation.parameters ?? []).map((parameter) => (isReference(parameter) ? (this.#component('parameters', parameter.$ref) as Parameter) : parameter));
  }

  #component(kind: 'parameters' | 'responses', ref: string): Parameter | ResponseObject {
    const name = ref.replace(`#/components/${kind}/`, '');
    const component = this.#document.components[kind][name];
    if (component === undefined) throw new Error(`${ref} is not in ${this.name}`);
    return component;
  }

  #checkParameter(route: Route, parameter: Parameter, value: string | string[]): string[] {
    if (parameter.schema === undefined) return [];
    const validate = this.#validator(`${route.operationId} ${parameter.in} ${parameter.name}`, this.#parameters, parameter.schema);
    return validate(value) ? [] : [`${parameter.in} parameter ${parameter.name} ${JSON.stringify(value)}: ${errorsText(this.#parameters, validate.errors, parameter.name)}`];
  }

  #checkRequestBody(route: Route, operation: Operation, request: RequestToCheck): string[] {
    const requestBody = operation.requestBody;
    if (request.body === undefined) return requestBody?.required === true ? [`${route.operationId} needs a request body`] : [];
    if (requestBody === undefined) return [`${route.operationId} takes no request body, but one was sent`];
    const mediaType = request.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
    const schema = requestBody.content[mediaType]?.schema;
    if (schema === undefined) return [`${route.operationId} takes ${Object.keys(requestBody.content).join(' or ')}, not ${mediaType || 'a body without Content-Type'}`];
    const validate = this.#validator(`${route.operationId} body`, this.#bodies, schema);
    return validate(request.body) ? [] : [`request body: ${errorsText(this.#bodies, validate.errors, 'body')}`];
  }

  #validator(key: string, ajv: Ajv, schema: JsonObject): ValidateFunction {
    let validate = this.#validators.get(key);
    if (validate === undefined) {
      validate = ajv.compile(toJsonSchema(schema));
      this.#validators.set(key, validate);
    }
    return validate;
  }
}
