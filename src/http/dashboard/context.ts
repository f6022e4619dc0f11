import type { Request, Response } from 'express';
import type { ParentCaller, SchoolGrant, StaffCaller } from '../../auth/caller.js';
import type { SchoolSummary } from '../../db/repositories/schools.js';
import type { Format } from './format.js';
import type { Html } from './html.js';
import type { Locale, Translate } from './messages/index.js';

/** What a signed-in page knows: who asks, in which school, in which language and time zone. */
export interface PageContext {
  req: Request;
  res: Response;
  caller: StaffCaller | ParentCaller;
  /** The school the page is about (`?school=`, else the one chosen last, else the caller's first). */
  school: SchoolSummary;
  grant: SchoolGrant;
  /** Every school the caller has standing in (a switch shows when there are several). */
  schools: SchoolSummary[];
  locale: Locale;
  t: Translate;
  fmt: Format;
  /** Whether htmx asked (then a page may answer with only the fragment it swaps). */
  htmx: boolean;
  /** The current time (the dashboard's clock, the service's). */
  now: Date;
}

/** A page's answer: its title and body, put in the frame (layout.ts); `fragment` answers an htmx request alone. */
export interface PageResult {
  title: string;
  body: Html;
  /** Sent as is, without the frame, when htmx asked. */
  fragment?: Html;
  status?: number;
  /** Extra scripts from /assets/ this page needs (e.g. the charts). */
  scripts?: string[];
  /** The menu entry to mark as current, when not the path itself. */
  current?: string;
}
