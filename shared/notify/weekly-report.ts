import * as v from 'valibot';
import type { RenderedNotification } from './sender.ts';

// The weekly report's content (the `data` of a weekly-report notification) and its rendering for each channel.

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'] as const;
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const score = v.pipe(v.number(), v.minValue(0), v.maxValue(100));

export const WeeklyReportSchema = v.object({
  repositories: count,
  openBySeverity: v.object(Object.fromEntries(SEVERITY_ORDER.map((s) => [s, count])) as Record<(typeof SEVERITY_ORDER)[number], typeof count>),
  newThisWeek: count,
  fixedThisWeek: count,
  /** Mean security score of the repositories (null without any), and the week's change in open findings. */
  securityScore: v.nullable(score),
  lowestSecurityScore: v.nullable(score),
  openChangeThisWeek: v.pipe(v.number(), v.integer()),
  scansCompleted: count,
  since: v.pipe(v.string(), v.isoTimestamp()),
  /** The repositories with the lowest scores, at most ten. */
  atRisk: v.pipe(
    v.array(v.object({ fullName: v.pipe(v.string(), v.minLength(1)), securityScore: score, open: count })),
    v.maxLength(10),
  ),
});
export type WeeklyReport = v.InferOutput<typeof WeeklyReportSchema>;

const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Slack mrkdwn treats &, < and > as control characters; a repository name must not become a link or mention. */
const mrkdwn = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function trendWords(report: WeeklyReport): string {
  const delta = report.openChangeThisWeek;
  if (delta === 0) return 'no change in open findings since last week';
  return delta < 0 ? `${-delta} fewer open findings than last week (improving)` : `${delta} more open findings than last week (worsening)`;
}

function scoreWords(report: WeeklyReport): string {
  if (report.securityScore === null) return 'no score yet';
  const lowest = report.lowestSecurityScore !== null && report.lowestSecurityScore !== report.securityScore ? ` (lowest ${report.lowestSecurityScore})` : '';
  return `${report.securityScore}/100${lowest}`;
}

export function renderWeeklyReport(report: WeeklyReport, recipientName?: string): RenderedNotification {
  const open = SEVERITY_ORDER.reduce((n, s) => n + report.openBySeverity[s], 0);
  const week = report.since.slice(0, 10);
  const subject = `CodeGuardian weekly report: ${open} open finding${open === 1 ? '' : 's'}, security score ${scoreWords(report)}`;
  const severityLines = SEVERITY_ORDER.map((s) => `${s}: ${report.openBySeverity[s]}`);
  const facts: [string, string][] = [
    ['Repositories', String(report.repositories)],
    ['Open findings', String(open)],
    ['New this week', String(report.newThisWeek)],
    ['Fixed this week', String(report.fixedThisWeek)],
    ['Scans completed', String(report.scansCompleted)],
    ['Security score', scoreWords(report)],
    ['Trend', trendWords(report)],
  ];
  const atRisk = report.atRisk.map((r) => ({ ...r, line: `${r.fullName}: score ${r.securityScore}, ${r.open} open` }));

  const text = [
    `${recipientName ? `Hello ${recipientName},\n\n` : ''}Your CodeGuardian week since ${week}:`,
    '',
    ...facts.map(([k, val]) => `${k}: ${val}`),
    '',
    'Open findings by severity:',
    ...severityLines.map((l) => `  ${l}`),
    ...(atRisk.length > 0 ? ['', 'Repositories needing attention:', ...atRisk.map((r) => `  ${r.line}`)] : []),
    '',
  ].join('\n');

  const row = (k: string, val: string) => `<tr><th align="left" style="padding:2px 12px 2px 0">${html(k)}</th><td>${html(val)}</td></tr>`;
  const htmlBody = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    recipientName ? `<p>Hello ${html(recipientName)},</p>` : '',
    `<h1 style="font-size:18px">Your CodeGuardian week since ${html(week)}</h1>`,
    `<table>${facts.map(([k, val]) => row(k, val)).join('')}</table>`,
    '<h2 style="font-size:16px">Open findings by severity</h2>',
    `<table>${SEVERITY_ORDER.map((s) => row(s, String(report.openBySeverity[s]))).join('')}</table>`,
    atRisk.length > 0 ? `<h2 style="font-size:16px">Repositories needing attention</h2><ul>${atRisk.map((r) => `<li>${html(r.line)}</li>`).join('')}</ul>` : '',
    '</body></html>',
  ].join('');

  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: 'CodeGuardian weekly report' } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `Since ${week}` }] },
    { type: 'section', fields: facts.map(([k, val]) => ({ type: 'mrkdwn', text: `*${k}*\n${mrkdwn(val)}` })).slice(0, 10) },
    { type: 'section', text: { type: 'mrkdwn', text: `*Open findings by severity*\n${severityLines.join(' · ')}` } },
  ];
  if (atRisk.length > 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Repositories needing attention*\n${atRisk.map((r) => `• ${mrkdwn(r.line)}`).join('\n')}` } });
  }
  return { subject, text, html: htmlBody, blocks };
}
