import type { Request } from 'express';
import { AppError, ValidationError } from '../../../../lib/errors.js';

/** One part of a multipart/form-data body: a field's text, or a file's bytes with its name and type. */
export interface FormPart { name: string; filename?: string; contentType?: string; data: Buffer }

/** Reads the request's body whole, refusing more than `limit` bytes (413) before holding it. */
async function readBody(req: Request, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AppError('file_too_large', `the form has more than ${limit} bytes`, 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A browser's multipart/form-data form (a file upload with a few fields), parsed whole in memory: the
 * dashboard takes one file of at most the import's size, so no streaming parser is needed.
 */
export async function readMultipart(req: Request, limit: number): Promise<FormPart[]> {
  const type = req.headers['content-type'] ?? '';
  const boundary = /^multipart\/form-data;.*\bboundary=(?:"([^"]+)"|([^\s;]+))/i.exec(type);
  if (!boundary) throw new ValidationError('send the form as multipart/form-data');
  return splitParts(await readBody(req, limit), boundary[1] ?? boundary[2]!);
}

/** The parts between `--boundary` lines; each part's headers end at its first blank line (RFC 7578). */
export function splitParts(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const parts: FormPart[] = [];
  // The first delimiter may open the body without the CRLF before it.
  let at = body.indexOf(`--${boundary}`);
  if (at < 0) throw new ValidationError('the form has no parts');
  at += boundary.length + 2;
  for (;;) {
    if (body.subarray(at, at + 2).toString() === '--') return parts;
    const start = at + 2;
    const end = body.indexOf(delimiter, start);
    if (end < 0) throw new ValidationError('the form ends before its last part');
    parts.push(partOf(body.subarray(start, end)));
    at = end + delimiter.length;
  }
}

function partOf(part: Buffer): FormPart {
  const split = part.indexOf('\r\n\r\n');
  if (split < 0) throw new ValidationError('a form part has no headers');
  const headers = part.subarray(0, split).toString('utf8');
  const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1] ?? '';
  const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
  if (name === undefined) throw new ValidationError('a form part has no name');
  const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
  const contentType = /^content-type:\s*([^\r\n]+)$/im.exec(headers)?.[1]?.trim();
  return { name, filename, contentType, data: part.subarray(split + 4) };
}

/** A text field's value (the last one of its name). */
export function fieldOf(parts: readonly FormPart[], name: string): string | undefined {
  const part = parts.filter((p) => p.name === name && p.filename === undefined).at(-1);
  return part?.data.toString('utf8');
}
