import { adapters } from '../../adapters/index.js';
import { describeAdapterContract } from '../support/adapter-contract.js';
import { describeRoundTrip } from '../support/round-trip.js';

/**
 * Every registered adapter keeps the contract against its own simulator and passes the round trip
 * (generated school → simulator → adapter → applyBatch → the journal equals the generated truth).
 * Built from the registry: a new platform is tested here by being registered.
 */
for (const adapter of adapters.values()) {
  describeAdapterContract(adapter);
  describeRoundTrip(adapter);
}
