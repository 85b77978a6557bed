/** scripts/cli-args.ts: util.parseArgs with typed values, strict numbers and a --help generated from the option table. */
import {describe, expect, it, vi} from 'vitest';
import {CliSpec, helpText, parseCli, UsageError} from '../../scripts/cli-args';

const SPEC = {
  command: 'npm run demo --', summary: 'A demo.',
  positionals: [{name: 'FILE', help: 'the input'}],
  options: {
    count: {kind: 'positive', help: 'how many'}, start: {kind: 'count', help: 'from where'}, lr: {kind: 'real', help: 'rate'},
    name: {kind: 'string', arg: 'NAME', help: 'a name'}, fast: {kind: 'boolean', help: 'go fast'},
  },
} as const satisfies CliSpec;

describe('parseCli', () => {
  it('types values and keeps declared positionals', () => {
    const r = parseCli(SPEC, ['in.bin', '--count', '16', '--start=0', '--lr', '1e-3', '--name', 'x', '--fast'])!;
    expect(r.values).toEqual({count: 16, start: 0, lr: 0.001, name: 'x', fast: true});
    expect(r.positionals).toEqual(['in.bin']);
  });
  it('refuses hex, exponents, zero and negatives for counts, naming the option', () => {
    for (const [a, m] of [[['--count', '0x10'], /--count needs a whole number >= 1 \(got "0x10"\)/], [['--count', '1e3'], /whole number >= 1/],
      [['--count', '0'], /whole number >= 1 \(got "0"\)/], [['--count=-5'], /got "-5"/], [['--start', '-1'], /--start needs a value/],
      [['--lr', '0'], /--lr needs a positive number/], [['--lr', 'NaN'], /positive number/]] as const) {
      expect(() => parseCli(SPEC, [...a]), a.join(' ')).toThrow(m);
    }
  });
  it('refuses unknown options (suggesting a near one) and extra positionals', () => {
    expect(() => parseCli(SPEC, ['--cout', '3'])).toThrow(/unknown option --cout \(did you mean --count\?\)/);
    expect(() => parseCli(SPEC, ['a', 'b'])).toThrow(UsageError);
    expect(() => parseCli({...SPEC, positionals: undefined}, ['tiny'])).toThrow(/unexpected argument "tiny": this command takes options only/);
  });
  it('prints a --help generated from the options and returns null', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(parseCli(SPEC, ['--help'])).toBeNull();
    expect(log).toHaveBeenCalledWith(helpText(SPEC));
    log.mockRestore();
    const h = helpText(SPEC);
    expect(h).toMatch(/^usage: npm run demo -- FILE \[options\]/);
    for (const line of ['--count N', '--start N', '--lr X', '--name NAME', '--fast ', '-h, --help', 'FILE']) expect(h).toContain(line);
  });
});
