import busboy from 'busboy';
import type { Request } from 'express';
import { AppError, ValidationError } from '../../../../lib/errors.js';

/** One part of a multipart/form-data body: a field's text, or a file's bytes with its name and type. */
export interface FormPart { name: string; filename?: string; contentType?: string; data: Buffer }

/**
 * A browser's multipart/form-data form (a file upload with a few fields), parsed by busboy and held in
 * memory: the dashboard takes one file of at most `limit` bytes (413 beyond it, before more is held).
 */
export function readMultipart(req: Request, limit: number): Promise<FormPart[]> {
  if (!/^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) return Promise.reject(new ValidationError('send the form as multipart/form-data'));
  return new Promise((resolve, reject) => {
    const parts: FormPart[] = [];
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      reject(error);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { fileSize: limit, fieldSize: 64 * 1024, fields: 20, files: 2 } });
    } catch (error) {
      reject(new ValidationError(`the form cannot be read: ${(error as Error).message}`));
      return;
    }
    parser.on('field', (name, value) => parts.push({ name, data: Buffer.from(value, 'utf8') }));
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => fail(new AppError('file_too_large', `the file has more than ${limit} bytes`, 413)));
      stream.on('end', () => parts.push({ name, filename: info.filename ?? '', contentType: info.mimeType, data: Buffer.concat(chunks) }));
    });
    parser.on('error', (error: Error) => fail(new ValidationError(`the form cannot be read: ${error.message}`)));
    parser.on('close', () => {
      if (!failed) resolve(parts);
    });
    req.pipe(parser);
  });
}

/** A text field's value (the last one of its name). */
export function fieldOf(parts: readonly FormPart[], name: string): string | undefined {
  const part = parts.filter((p) => p.name === name && p.filename === undefined).at(-1);
  return part?.data.toString('utf8');
}
