import { describeAdapterContract } from '../support/adapter-contract.js';
import { dnevnikHarness } from '../support/harness-dnevnik.js';

describeAdapterContract(dnevnikHarness);
