// SPDX-License-Identifier: Apache-2.0
package org.quarry.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** {@code quarry_porter_stem}: Porter stemming (expects lowercase input). */
@NamedComponent("quarry_porter_stem")
public class QuarryPorterStemFilterFactory implements TokenFilterFactory {

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new PorterStemFilter(tokenStream);
    }
}
