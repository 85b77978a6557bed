const big = 'x'.repeat(8 * 1024 * 1024);
for (let i = 0; i < 4; i++) process.stdout.write(big);
throw new Error(`failure ${big}${big}`);
