import type { FakeGitHub, FakeRepo, FakeRequest, FakeResponse } from './server.ts';

// The Checks API of the fake GitHub: create, update, get and list check runs, with GitHub's rules that matter
// to a client: at most 50 annotations per request (422 otherwise), required annotation fields, annotations of
// successive requests appended, a head_sha that must be a commit of the repository.

export interface FakeAnnotation {
  readonly path: string;
  readonly start_line: number;
  readonly end_line: number;
  readonly start_column?: number;
  readonly end_column?: number;
  readonly annotation_level: 'notice' | 'warning' | 'failure';
  readonly message: string;
  readonly title?: string;
  readonly raw_details?: string;
}

export interface FakeCheckRun {
  readonly id: number;
  readonly repo: string;
  readonly installationId: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  external_id?: string;
  details_url?: string;
  started_at: string;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text?: string | null };
  readonly annotations: FakeAnnotation[];
  /** Requests that touched the run: 1 create plus the updates. */
  requests: number;
}

export interface FakeChecks {
  readonly runs: FakeCheckRun[];
  runsFor(fullName: string, headSha?: string): FakeCheckRun[];
}

const DOCS = 'https://docs.github.com/rest/checks/runs';
const LEVELS = new Set(['notice', 'warning', 'failure']);
const CONCLUSIONS = new Set(['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out']);

const unprocessable = (message: string): FakeResponse => ({ status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'CheckRun', code: 'invalid', message }], documentation_url: DOCS } });
const notFound: FakeResponse = { status: 404, body: { message: 'Not Found', documentation_url: DOCS } };

function annotationProblem(annotation: unknown, index: number): string | undefined {
  if (typeof annotation !== 'object' || annotation === null) return `annotations[${index}] is not an object`;
  const a = annotation as Record<string, unknown>;
  for (const field of ['path', 'message'] as const) if (typeof a[field] !== 'string' || a[field] === '') return `annotations[${index}].${field} is required`;
  for (const field of ['start_line', 'end_line'] as const) if (!Number.isInteger(a[field]) || (a[field] as number) < 1) return `annotations[${index}].${field} must be a positive integer`;
  if ((a.end_line as number) < (a.start_line as number)) return `annotations[${index}].end_line is before start_line`;
  if (!LEVELS.has(String(a.annotation_level))) return `annotations[${index}].annotation_level must be notice, warning or failure`;
  if ((a.start_column !== undefined || a.end_column !== undefined) && a.start_line !== a.end_line) return `annotations[${index}]: columns need start_line = end_line`;
  if (typeof a.title === 'string' && a.title.length > 255) return `annotations[${index}].title is longer than 255 characters`;
  if ((a.message as string).length > 65_535) return `annotations[${index}].message is longer than 64 KB`;
  return undefined;
}

type Output = { title?: unknown; summary?: unknown; text?: unknown; annotations?: unknown };

function outputProblem(output: Output | undefined): string | undefined {
  if (output === undefined) return undefined;
  if (typeof output.title !== 'string' || typeof output.summary !== 'string') return 'output.title and output.summary are required';
  if (output.annotations === undefined) return undefined;
  if (!Array.isArray(output.annotations)) return 'output.annotations must be an array';
  if (output.annotations.length > 50) return 'Only 50 annotations can be sent in one request';
  for (const [i, a] of output.annotations.entries()) {
    const problem = annotationProblem(a, i);
    if (problem) return problem;
  }
  return undefined;
}

/** Adds the check-run endpoints to `gh` and returns the runs it keeps. */
export function installChecks(gh: FakeGitHub): FakeChecks {
  const runs: FakeCheckRun[] = [];
  let nextId = 9_000_000;

  const repoOf = (req: FakeRequest): FakeRepo | undefined => {
    const fullName = `${req.match[1]}/${req.match[2]}`;
    try {
      const repo = gh.repo(fullName);
      return req.installationId === repo.installationId ? repo : undefined;
    } catch {
      return undefined;
    }
  };
  const json = (run: FakeCheckRun) => ({
    id: run.id,
    name: run.name,
    head_sha: run.head_sha,
    status: run.status,
    conclusion: run.conclusion,
    external_id: run.external_id ?? '',
    details_url: run.details_url ?? null,
    started_at: run.started_at,
    completed_at: run.completed_at,
    html_url: `${gh.baseUrl}/${run.repo}/runs/${run.id}`,
    url: `${gh.apiUrl}/repos/${run.repo}/check-runs/${run.id}`,
    output: { ...run.output, annotations_count: run.annotations.length, annotations_url: `${gh.apiUrl}/repos/${run.repo}/check-runs/${run.id}/annotations` },
    app: { id: 424242, slug: 'codeguardian-local' },
  });
  const apply = (run: FakeCheckRun, body: Record<string, unknown>) => {
    if (typeof body.name === 'string') run.name = body.name;
    if (typeof body.status === 'string') run.status = body.status;
    if (typeof body.conclusion === 'string') {
      run.conclusion = body.conclusion;
      run.status = 'completed';
      run.completed_at = typeof body.completed_at === 'string' ? body.completed_at : new Date().toISOString();
    }
    if (typeof body.external_id === 'string') run.external_id = body.external_id;
    if (typeof body.details_url === 'string') run.details_url = body.details_url;
    const output = body.output as Output | undefined;
    if (output) {
      run.output = { title: output.title as string, summary: output.summary as string, text: typeof output.text === 'string' ? output.text : null };
      if (Array.isArray(output.annotations)) run.annotations.push(...(output.annotations as FakeAnnotation[]));
    }
  };
  const problemOf = (body: Record<string, unknown>): string | undefined => {
    if (body.status !== undefined && !['queued', 'in_progress', 'completed'].includes(String(body.status))) return 'status is not valid';
    if (body.conclusion !== undefined && !CONCLUSIONS.has(String(body.conclusion))) return 'conclusion is not valid';
    if (body.status === 'completed' && body.conclusion === undefined) return 'conclusion is required when status is completed';
    return outputProblem(body.output as Output | undefined);
  };

  gh.on('POST', /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/, (req) => {
    const repo = repoOf(req);
    if (!repo) return notFound;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.name !== 'string' || body.name === '') return unprocessable('name is required');
    if (typeof body.head_sha !== 'string' || !repo.commits.has(body.head_sha)) return unprocessable(`No commit found for SHA: ${String(body.head_sha)}`);
    const problem = problemOf(body);
    if (problem) return unprocessable(problem);
    const run: FakeCheckRun = {
      id: nextId++, repo: repo.fullName, installationId: repo.installationId, name: body.name, head_sha: body.head_sha,
      status: 'queued', conclusion: null, started_at: new Date().toISOString(), completed_at: null,
      output: { title: null, summary: null }, annotations: [], requests: 1,
    };
    apply(run, body);
    runs.push(run);
    return { status: 201, body: json(run) };
  });

  gh.on('PATCH', /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/, (req) => {
    const repo = repoOf(req);
    const run = runs.find((r) => r.id === Number(req.match[3]) && r.repo === repo?.fullName);
    if (!repo || !run) return notFound;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const problem = problemOf(body);
    if (problem) return unprocessable(problem);
    apply(run, body);
    run.requests++;
    return { status: 200, body: json(run) };
  });

  gh.on('GET', /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/, (req) => {
    const repo = repoOf(req);
    const run = runs.find((r) => r.id === Number(req.match[3]) && r.repo === repo?.fullName);
    return repo && run ? { status: 200, body: json(run) } : notFound;
  });

  gh.on('GET', /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/check-runs$/, (req) => {
    const repo = repoOf(req);
    if (!repo) return notFound;
    const sha = repo.resolve(req.match[3] as string)?.sha;
    const name = req.query.get('check_name');
    const found = runs.filter((r) => r.repo === repo.fullName && r.head_sha === sha && (!name || r.name === name));
    return { status: 200, body: { total_count: found.length, check_runs: found.map(json) } };
  });

  return {
    runs,
    runsFor: (fullName, headSha) => runs.filter((r) => r.repo.toLowerCase() === fullName.toLowerCase() && (!headSha || r.head_sha === headSha)),
  };
}
