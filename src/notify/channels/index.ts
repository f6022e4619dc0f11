import type { ChannelProvider } from './contract.js';
import { nikitaProvider } from './nikita.js';
import { smscProvider } from './smsc.js';
import { smsRuProvider } from './smsru.js';
import { smtpProvider } from './smtp.js';
import { telegramProvider } from './telegram.js';

/** Every outbound provider, by id: one line per provider (like the platform adapters' registry). */
export const PROVIDERS: ReadonlyMap<string, ChannelProvider> = new Map(
  ([smtpProvider, telegramProvider, smsRuProvider, smscProvider, nikitaProvider] as unknown as ChannelProvider[]).map((p) => [p.id, p]),
);
