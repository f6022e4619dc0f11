import { dnevnikHarness, dnevnikSpelling } from '../support/harness-dnevnik.js';
import { describeRoundTrip } from '../support/round-trip.js';

describeRoundTrip('Дневник.ру', { harness: dnevnikHarness, spelling: () => dnevnikSpelling, seed: 5, pupils: 60, range: { from: '2025-09-01', to: '2025-10-31' } });
