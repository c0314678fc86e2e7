import { describe, expect, it } from '@jest/globals';
import * as v from 'valibot';
import { renderWeeklyReport, trendWords, WeeklyReportSchema, type WeeklyReport } from '../../../shared/notify/weekly-report.ts';

const report: WeeklyReport = {
  repositories: 3,
  openBySeverity: { critical: 1, high: 2, medium: 3, low: 4, info: 5 },
  newThisWeek: 6,
  fixedThisWeek: 7,
  securityScore: 72,
  lowestSecurityScore: 40,
  openChangeThisWeek: -4,
  scansCompleted: 9,
  since: '2026-11-16T08:00:00.000Z',
  atRisk: [
    { fullName: 'acme/<script>alert(1)</script>', securityScore: 40, open: 11 },
    { fullName: 'acme/api & <!here>', securityScore: 88, open: 4 },
  ],
};

describe('weekly report rendering', () => {
  const rendered = renderWeeklyReport(report, 'ada');

  it('states every figure in the plain-text body', () => {
    for (const line of [
      'Hello ada,',
      'since 2026-11-16',
      'Repositories: 3',
      'Open findings: 15',
      'New this week: 6',
      'Fixed this week: 7',
      'Scans completed: 9',
      'Security score: 72/100 (lowest 40)',
      'Trend: 4 fewer open findings than last week (improving)',
      'critical: 1',
      'info: 5',
      'acme/api & <!here>: score 88, 4 open',
    ]) {
      expect(rendered.text).toContain(line);
    }
    expect(rendered.subject).toBe('CodeGuardian weekly report: 15 open findings, security score 72/100 (lowest 40)');
  });

  it('escapes repository names in HTML and Slack mrkdwn, so a name is never markup, a link or a mention', () => {
    expect(rendered.html).not.toContain('<script>');
    expect(rendered.html).toContain('acme/&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(rendered.html).toContain('<th align="left" style="padding:2px 12px 2px 0">Fixed this week</th><td>7</td>');
    const slack = JSON.stringify(rendered.blocks);
    expect(slack).not.toContain('<!here>');
    expect(slack).toContain('acme/api &amp; &lt;!here&gt;');
  });

  it('builds valid Block Kit: a header, at most ten section fields, and plain_text headers under 150 characters', () => {
    const [header, , facts] = rendered.blocks as { type: string; text?: { type: string; text: string }; fields?: unknown[] }[];
    expect(header).toEqual({ type: 'header', text: { type: 'plain_text', text: 'CodeGuardian weekly report' } });
    expect(facts?.type).toBe('section');
    expect(facts?.fields?.length).toBeLessThanOrEqual(10);
    expect(rendered.blocks.length).toBeLessThanOrEqual(50);
  });

  it('says when there is no score yet and no trend, and leaves out the attention list when empty', () => {
    const quiet = renderWeeklyReport({ ...report, securityScore: null, lowestSecurityScore: null, openChangeThisWeek: 0, atRisk: [], openBySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 1 } });
    expect(quiet.subject).toBe('CodeGuardian weekly report: 1 open finding, security score no score yet');
    expect(quiet.text).toContain('Trend: no change in open findings since last week');
    expect(quiet.text).not.toContain('needing attention');
    expect(quiet.text.startsWith('Your CodeGuardian week')).toBe(true);
    expect(JSON.stringify(quiet.blocks)).not.toContain('needing attention');
  });

  it('words a worsening trend', () => {
    expect(trendWords({ ...report, openChangeThisWeek: 3 })).toBe('3 more open findings than last week (worsening)');
  });
});

describe('weekly report data', () => {
  it('accepts the report and refuses negative counts, scores above 100, unknown severities missing and long lists', () => {
    expect(v.is(WeeklyReportSchema, report)).toBe(true);
    expect(v.is(WeeklyReportSchema, { ...report, newThisWeek: -1 })).toBe(false);
    expect(v.is(WeeklyReportSchema, { ...report, securityScore: 101 })).toBe(false);
    expect(v.is(WeeklyReportSchema, { ...report, openBySeverity: { critical: 1 } })).toBe(false);
    expect(v.is(WeeklyReportSchema, { ...report, since: 'last monday' })).toBe(false);
    expect(v.is(WeeklyReportSchema, { ...report, atRisk: Array.from({ length: 11 }, () => report.atRisk[0]) })).toBe(false);
  });
});
