import { describeAdapterContract } from '../support/adapter-contract.js';
import { edutatarHarness } from '../support/harness-edutatar.js';

describeAdapterContract(edutatarHarness);
