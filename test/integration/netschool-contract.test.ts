import { describeAdapterContract } from '../support/adapter-contract.js';
import { netschoolHarness } from '../support/harness-netschool.js';

describeAdapterContract(netschoolHarness);
