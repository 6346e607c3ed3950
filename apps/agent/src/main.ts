// Placeholder entry until the agent's commands land (issue 3): prints usage and exits non-zero.
console.error('usage: karvon-agent <register|run> [options] (not implemented yet)');
process.exitCode = 2;
