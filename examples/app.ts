import { App } from 'aws-cdk-lib';
import { CheckoutServiceStack } from './checkout-service';

const app = new App();
new CheckoutServiceStack(app, 'CheckoutService');
app.synth();
