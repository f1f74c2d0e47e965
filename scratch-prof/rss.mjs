const rss = () => (process.memoryUsage().rss / 1048576).toFixed(1)
const steps = [['fastify', 'fastify'], ['swagger-ui', '@fastify/swagger-ui'], ['swagger', '@fastify/swagger'], ['helmet', '@fastify/helmet'], ['kysely+pg', 'pg'], ['ioredis', 'ioredis'], ['jose', 'jose'], ['prom-client', 'prom-client'], ['nodemailer', 'nodemailer'], ['otpauth', 'otpauth'], ['qrcode', 'qrcode'], ['argon2', '@node-rs/argon2'], ['bcrypt', 'bcrypt'], ['ajv-formats', 'ajv-formats'], ['zxcvbn common', '@zxcvbn-ts/language-common'], ['app', '../dist/app.js'], ['kitsune', '../dist/kitsune.js']]
console.log('start', rss())
for (const [name, mod] of steps) { await import(mod); console.log(name.padEnd(16), rss()) }
