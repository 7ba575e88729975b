// The console's pages in navigation order.
import chat from "./chat.js";
import compare from "./compare.js";
import datasets from "./datasets.js";
import lineage from "./lineage.js";
import training from "./training.js";
import evals from "./evals.js";
import keys from "./keys.js";
import usage from "./usage.js";
import guard from "./guard.js";
import audit from "./audit.js";
import compliance from "./compliance.js";
import integrate from "./integrate.js";

export const PAGES = [chat, compare, datasets, lineage, training, evals, keys, usage, guard, audit, compliance, integrate];
