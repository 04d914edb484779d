import { HTTP_METHODS, type JsonSchema, type OpenApiDocument, type OperationObject, type ParameterObject, type ResponseObject } from './openapi/types';

const STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1b1b1b; }
h2 { border-bottom: 1px solid #ccc; margin-top: 2.5rem; }
section.operation { border: 1px solid #ddd; border-radius: 6px; margin: 1rem 0; padding: 0 1rem 0.5rem; }
.method { display: inline-block; min-width: 5rem; font-weight: bold; text-transform: uppercase; }
code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
nav li { list-style: none; }
`;

/**
 * Renders the API description as one HTML page with no scripts and no external resources, so
 * it works on machines without internet access.
 */
export function renderDocsPage(document: OpenApiDocument): string {
  const operations = listOperations(document);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(document.info.title)} API</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(document.info.title)} API <small>${escapeHtml(document.info.version)}</small></h1>`,
    '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>',
    renderMarkdown(document.info.description),
    '<h2>Operations</h2><nav><ul>',
    ...operations.map(({ method, path, operation }) =>
      `<li><a href="#${operation.operationId}"><span class="method">${method}</span> <code>${escapeHtml(path)}</code></a> ${escapeHtml(operation.summary)}</li>`,
    ),
    '</ul></nav>',
    ...operations.map(({ method, path, operation, pathParameters }) => renderOperation(method, path, operation, pathParameters)),
    '<h2>Schemas</h2>',
    ...Object.entries(document.components.schemas).map(
      ([name, schema]) => `<section id="schema-${name}"><h3>${name}</h3>${renderSchema(schema)}</section>`,
    ),
    '</body></html>',
  ].join('\n');
}

type ListedOperation = {
  readonly method: string;
  readonly path: string;
  readonly operation: OperationObject;
  readonly pathParameters: readonly ParameterObject[];
};

function listOperations(document: OpenApiDocument): ListedOperation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    HTTP_METHODS.flatMap((method) => {
      const operation = item[method];
      return operation === undefined ? [] : [{ method, path, operation, pathParameters: item.parameters ?? [] }];
    }),
  );
}

function renderOperation(method: string, path: string, operation: OperationObject, pathParameters: readonly ParameterObject[]): string {
  const parameters = [...pathParameters, ...(operation.parameters ?? [])];
  const body = operation.requestBody;
  return [
    `<section class="operation" id="${operation.operationId}">`,
    `<h3><span class="method">${method}</span> <code>${escapeHtml(path)}</code></h3>`,
    `<p><strong>${escapeHtml(operation.summary)}</strong>${operation.description === undefined ? '' : ` ${renderInline(operation.description)}`}</p>`,
    parameters.length === 0 ? '' : renderParameters(parameters),
    body === undefined
      ? ''
      : `<h4>Request body</h4>${body.description === undefined ? '' : `<p>${renderInline(body.description)}</p>`}${renderContent(body.content)}`,
    '<h4>Responses</h4>',
    '<table><tr><th>Status</th><th>Description</th><th>Headers</th><th>Body</th></tr>',
    ...Object.entries(operation.responses).map(([status, response]) => renderResponse(status, response)),
    '</table></section>',
  ].join('\n');
}

function renderParameters(parameters: readonly ParameterObject[]): string {
  const rows = parameters.map(
    (parameter) =>
      `<tr><td><code>${escapeHtml(parameter.name)}</code></td><td>${parameter.in}</td><td>${parameter.required === true ? 'yes' : 'no'}</td>` +
      `<td>${renderSchema(parameter.schema)}</td><td>${renderInline(parameter.description)}</td></tr>`,
  );
  return ['<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Required</th><th>Schema</th><th>Description</th></tr>', ...rows, '</table>'].join('\n');
}

function renderResponse(status: string, response: ResponseObject): string {
  const headers = Object.entries(response.headers ?? {})
    .map(([name, header]) => `<code>${escapeHtml(name)}</code>${header.required === true ? '' : ' (optional)'}`)
    .join('<br>');
  return `<tr><td>${status}</td><td>${renderInline(response.description)}</td><td>${headers}</td><td>${renderContent(response.content ?? {})}</td></tr>`;
}

function renderContent(content: Readonly<Record<string, { readonly schema: JsonSchema }>>): string {
  return Object.entries(content)
    .map(([mediaType, { schema }]) => `<div><code>${escapeHtml(mediaType)}</code> ${renderSchema(schema)}</div>`)
    .join('');
}

/** Links a bare reference to its schema section, and prints any other schema as JSON. */
function renderSchema(schema: JsonSchema): string {
  const keys = Object.keys(schema);
  if (schema.$ref !== undefined && keys.length === 1) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  }
  return `<pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre>`;
}

/** Renders the description's small Markdown subset: paragraphs, "- " lists, `code` and **bold**. */
function renderMarkdown(text: string): string {
  const blocks = text.split(/\n\s*\n/);
  return blocks
    .map((block) => {
      const items = block.split(/\n(?=- )/);
      if (items.every((item) => item.startsWith('- '))) {
        return `<ul>${items.map((item) => `<li>${renderInline(item.slice(2))}</li>`).join('')}</ul>`;
      }
      return `<p>${renderInline(block)}</p>`;
    })
    .join('\n');
}

function renderInline(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
