import { describeAdapterContract } from '../support/adapter-contract.js';
import { kundolukHarness } from '../support/harness-kundoluk.js';

describeAdapterContract(kundolukHarness);
